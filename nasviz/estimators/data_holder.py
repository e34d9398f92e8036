"""What the estimators that train on a data split share: checking it, one copy per device, pickling.

:class:`~nasviz.estimators.Training` and :class:`~nasviz.estimators.WeightSharing` keep
the split given as ``data`` (a :class:`nasviz.data.Data`), a copy of it on the device
they train on, and a lock; process pools pickle them without the lock and the copy.

Examples
--------
>>> import pickle, nasviz as nv
>>> est = nv.estimators.Training(nv.data.digits(resolution=4), epochs=1, channels=2)
>>> again = pickle.loads(pickle.dumps(est))
>>> again._device_data is None and again._lock is not est._lock
True
"""

from __future__ import annotations

import threading

from ..data import check_data

__all__ = ["DataHolder", "check_data"]

class DataHolder:
    """Mixin: ``_data_on_device()`` and pickling without ``_lock`` and ``_device_data``.

    The class needs ``data``, ``_resolved_device()``, ``_lock`` and ``_device_data``.
    """

    def __getstate__(self):  # picklable for process pools: no lock, no copy of the data on a device
        state = dict(self.__dict__)
        state["_lock"] = None
        state["_device_data"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _data_on_device(self):
        dev = self._resolved_device()
        if self._device_data is None or self._device_data[0] != dev:
            self._device_data = (dev, self.data.to(dev))
        return self._device_data[1]
