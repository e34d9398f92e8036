import pytest

import nasviz as nv

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def bench():
    return nv.bench.load("nb201-12epoch")


def summary(history):
    return [(t.number, str(t.arch), t.score, t.cost, t.status) for t in history]


def test_search_on_a_dask_cluster_matches_a_serial_run(client, bench, tmp_path):
    space = bench.space
    est = nv.estimators.Tabular(bench)
    serial = nv.Search(space, nv.strategies.RandomSearch(space, seed=0), est, budget=24).run(progress=False)
    search = nv.Search(space, nv.strategies.RandomSearch(space, seed=0), est, budget=24, workers=2,
                       executor=client.get_executor(), storage=tmp_path / "dask.sqlite")
    history = search.run(progress=False)
    assert search.stopped_reason_ == "budget"
    # random search asks the same cells whatever order results come back in
    assert summary(history) == summary(serial)
    workers = {t.worker for t in history}
    assert workers <= set(client.scheduler_info()["workers"])  # Dask worker addresses
    assert len(nv.History.from_storage(tmp_path / "dask.sqlite")) == 24


def test_dask_evolution_completes_and_resumes(client, bench, tmp_path):
    space = bench.space
    est = nv.estimators.Tabular(bench)
    path = tmp_path / "evo.sqlite"
    strategy = nv.strategies.RegularizedEvolution(space, population=8, sample=3, seed=1)
    history = nv.Search(space, strategy, est, budget=16, workers=2, executor=client.get_executor(),
                        storage=path).run(progress=False)
    assert [t.number for t in history] == list(range(16)) and all(t.ok for t in history)
    assert any(t.parent is not None for t in history)
    # continue the journal of a parallel run on the cluster
    more = nv.Search.resume(path, estimator=est, budget=20, workers=2, executor=client.get_executor()).run(
        progress=False)
    assert summary(more)[:16] == summary(history) and len(more) == 20


def test_cli_dask_scheduler(client, tmp_path, capsys):
    from nasviz.cli import main

    path = tmp_path / "cli.sqlite"
    assert main(["search", "--strategy", "random", "--budget", "8", "--storage", str(path), "--quiet",
                 "--dask-scheduler", client.scheduler.address]) == 0
    history = nv.History.from_storage(path)
    assert len(history) == 8 and {t.worker for t in history} <= set(client.scheduler_info()["workers"])
    assert main(["search", "--budget", "8", "--quiet", "--dask-scheduler", "udp://127.0.0.1:8786"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Dask scheduler 'udp://127.0.0.1:8786'" in err
