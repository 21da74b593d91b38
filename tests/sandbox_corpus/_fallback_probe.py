"""Which cage does an unprivileged user get when user namespaces fail? Prints the cage and a program's isolation.

Run as nobody: the user-namespace probe is made to fail (as it does under kernel.unprivileged_userns_clone=0
or AppArmor's restriction), so best_cage must fall back to Landlock, and say why.
"""

from evalhouse.ingest import sandbox

real_probe = sandbox._probe
sandbox._probe = lambda cage: "user namespaces are off (test)" if cage == "userns" else real_probe(cage)
cage, why = sandbox.best_cage()
result = sandbox.run_code("print(6 * 7)", sandbox.Limits())
print(cage, result.isolation, result.stdout.strip(), why, sep="|")
