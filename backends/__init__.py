"""Character backends, each behind the core's backend interface (``bot.upstream.base.Upstream``) and registered by
name in the composition root (``charbridge.app.BACKENDS``)."""
