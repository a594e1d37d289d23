# `make lab` starts JupyterLab with this file. Each chapter is a notebook paired by jupytext with
# a .py file of the same name (the copy that code review and `git diff` read); the file browser
# lists only the notebooks.
c = get_config()  # noqa: F821 (defined by the config loader)
c.ContentsManager.hide_globs = ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~",
                                "[0-9][0-9]_*.py"]  # solutions too: NN_topic_solutions
