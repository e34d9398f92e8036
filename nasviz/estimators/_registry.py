"""The zero-cost proxy registry: each proxy's paper and what it measures (plain data, no torch)."""

__all__ = ["PROXIES"]

#: proxy name -> (paper, what it measures). Higher is predicted better for every one.
PROXIES = {
    "synflow": (
        ("Tanaka et al., 'Pruning neural networks without any data by iteratively conserving synaptic flow', "
         "NeurIPS 2020"),
        ("sum over weights of |theta * dR/dtheta|, R = sum of the outputs of the network with absolute weights, "
         "batch normalisation bypassed and an all-ones input, in double precision: how much signal the weights "
         "carry from input to output; uses no data")),
    "naswot": (
        "Mellor et al., 'Neural Architecture Search without Training', ICML 2021",
        ("log-determinant of K = C C^T + (1-C)(1-C)^T, C the minibatch's binary activation codes (which side of "
         "zero each ReLU input is on): how differently the untrained network carves up the images")),
    "jacob_cov": (
        "Mellor et al., 'Neural Architecture Search without Training', arXiv:2006.04647v1, 2020",
        ("-sum(log(v + k) + 1/(v + k)), k = 1e-5, over the eigenvalues v of the correlation matrix of the "
         "images' input gradients of the summed output: high when images get uncorrelated Jacobians")),
    "snip": (
        "Lee et al., 'SNIP: Single-shot network pruning based on connection sensitivity', ICLR 2019",
        ("sum over weights of |theta * dL/dtheta|, L the minibatch loss: how much the loss would change if the "
         "weights were removed")),
    "grad_norm": (
        "Abdelfattah et al., 'Zero-Cost Proxies for Lightweight NAS', ICLR 2021",
        ("sum over layers of the L2 norm of the gradient of the minibatch loss with respect to the layer's "
         "weights")),
    "fisher": (
        ("Theis et al., 'Faster gaze prediction with dense networks and Fisher pruning', 2018; Turner et al., "
         "'BlockSwap', ICLR 2020"),
        ("per output channel, 0.5 * mean over images of (sum over pixels of activation * dL/dactivation)^2, "
         "spread over the channel's weights and summed: how much the loss would change if channels were removed")),
    "grasp": (
        "Wang et al., 'Picking winning tickets before training by preserving gradient flow', ICLR 2020",
        ("sum over weights of -theta * (H g), H the Hessian and g the gradient of the minibatch loss: how removing "
         "weights would change gradient flow (sign as in the reference code, so that higher is better)")),
    "params": ("baseline", "number of trainable parameters (nasviz.count_params)"),
    "flops": ("baseline", "floating-point operations of a forward pass of one image (nasviz.count_flops)"),
    "meco": (
        ("Jiang et al., 'MeCo: Zero-Shot NAS with One Data and Single Forward Pass via Minimum Eigenvalue of "
         "Correlation', NeurIPS 2023"),
        ("sum over layers (leaf modules with a spatial output, each once) of the smallest eigenvalue of the Pearson "
         "correlation of the layer's channels over the positions of one image's feature map (the minibatch's first, "
         "forwarded alone as in the reference): forward pass only; constant channels correlate 0, as the reference")),
    "zico": (
        "Li et al., 'ZiCo: Zero-shot NAS via Inverse Coefficient of Variation on Gradients', ICLR 2023",
        ("sum over Conv2d and Linear layers of log(sum over weights of mean|g| / std(g)), g the weight's loss "
         "gradient on each half of the minibatch (population std; weights with std 0 left out and a layer whose "
         "sum is 0 skipped, as the reference): high when gradients are large and agree across minibatches")),
    "swap": (
        "Peng et al., 'SWAP-NAS: Sample-Wise Activation Patterns for Ultra-fast NAS', ICLR 2024",
        ("number of distinct sample-wise activation patterns: each unit of a feature map's activations is on or "
         "off (ReLU input > 0) for each image of the minibatch, and the distinct on/off vectors over the images are "
         "counted over the units (the reference's unique rows of the units x images sign matrix)")),
    "swap_reg": (
        "Peng et al., 'SWAP-NAS: Sample-Wise Activation Patterns for Ultra-fast NAS', ICLR 2024 (regularised)",
        ("swap * exp(-(s - mu)^2 / sigma), the paper's regularisation function, with s the parameter count divided "
         "by the largest of the reference sample and mu = sigma = 1 (the reference code takes mu and sigma as "
         "arguments, sizes in thousands of parameters, with no default; a relative size lets one setting fit every "
         "network size): favours cells near the sample's largest")),
    "vote": (
        "Abdelfattah et al., 'Zero-Cost Proxies for Lightweight NAS', ICLR 2021 (majority vote)",
        ("share of the reference sample the candidate beats by majority vote of synflow, jacob_cov and snip (it "
         "beats a cell when at least two of the three score it strictly higher): the paper's pairwise vote made "
         "one candidate's score (Copeland's rule against a fixed sample)")),
    "ensemble": (
        ("Lee & Ham, 'AZ-NAS: Assembling Zero-Cost Proxies for Network Architecture Search', CVPR 2024 (its "
         "aggregation)"),
        ("sum over meco, zico, swap and flops of log(rank / (R + 1)), rank the candidate's ascending average rank "
         "among the R reference cells and itself: AZ-NAS's sum of log-ranks over nasviz proxies for its aspects "
         "(expressivity, trainability, complexity), not over AZ-NAS's own proxies")),
}
