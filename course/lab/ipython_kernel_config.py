# Installed into .venv/etc/ipython/ by `make install`: TensorFlow's C++ start-up lines ("Could not
# find cuda drivers", "failed call to cuInit") are written to the kernel's file descriptor 2
# before any setting in a notebook can stop them. By default ipykernel copies that descriptor
# into the cell's output, where learners read the red lines as a failure; this sends them to the
# terminal that started JupyterLab instead. Python's own warnings still show in the cell.
c = get_config()  # noqa: F821 (defined by the config loader)
c.IPKernelApp.capture_fd_output = False
