"""No models. Django imports this module while it sets up the apps, after it has created every
app's config: whether the collector ran then tells the tests when prodserver's pause began."""

import gc

COLLECTING_WHEN_MODELS_WERE_IMPORTED = gc.isenabled()
