"""The one place tinyreg.data picks a random generator."""


def generator_or_default(rng):
    """Return ``rng``, or ``tinyreg.random.generator()`` (seeded by ``tinyreg.manual_seed``) if None.

    Imported lazily so that ``tinyreg.data`` loads without the rest of tinyreg.
    """
    if rng is not None:
        return rng
    from tinyreg.random import generator
    return generator()
