"""The composition root: the ``charbridge`` command (``cli``) and the wiring of a bridge from its settings
(``app``): which store, which backends, which platforms. Everything else sits below it: the sandbox and the
adapters, the backends, and the core (``bot``)."""
