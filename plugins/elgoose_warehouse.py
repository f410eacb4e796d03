"""The ElGoose warehouse's Airflow plugin: the Warehouse page (``elgoose.ui.plugin``).

Airflow's plugin manager imports every ``.py`` file of this folder as a top-level module, so this folder
holds only this entry file; the code lives in the installed package ``elgoose``.
"""

from elgoose.ui.plugin import ElGooseWarehousePlugin

__all__ = ["ElGooseWarehousePlugin"]
