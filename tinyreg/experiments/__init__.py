"""The classic regularization demonstrations, reproduced: ``python -m tinyreg list`` / ``run NAME``.

| file                        | what                                                                      |
|-----------------------------|---------------------------------------------------------------------------|
| registry.py                 | name -> module and description                                           |
| runner.py                   | seeding, timing, the text summary, metrics.json and the plots             |
| progress.py                 | tqdm bars when installed, else printed lines                              |
| plotting.py                 | matplotlib (Agg) when installed, shared drawing helpers                  |
| training.py                 | the Fashion-MNIST data and training loop experiments 3-7 share           |
| tour.py                     | ``python -m tinyreg``: quick versions of 1, 2 and 4 and a traced step    |
| one file per experiment     | ``run(ctx) -> dict``, ``summarize(metrics)``, ``plot(metrics, plt)``     |
"""
