"""Opens files until no descriptor is left."""
# expect: descriptors

T = {}  # the corpus runner puts the targets here

handles = []
while True:
    handles.append(open("/dev/null"))
