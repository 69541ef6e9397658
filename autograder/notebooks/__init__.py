"""The course as Jupyter notebooks: built from ``solutions/`` and lessons, graded as modules.

* :mod:`.chunks`: a module cut into the cells a notebook shows;
* :mod:`.cells`: the notebook format, and reading a handed-in notebook back into a module;
* :mod:`.build`: lesson + module -> nbgrader source notebook or student notebook;
* :mod:`.grade_cell`: what a test cell calls (the same engine and checks as ``autograder grade``);
* :mod:`.materialize`: a folder of handed-in notebooks -> the folder of modules the engine grades;
* :mod:`.kernel`: lets notebooks import one another by module name;
* :mod:`.course`: ``autograder nbgrader init``.
"""
