"""nbgrader configuration: this repository is the course directory.

``solutions/`` holds the source notebooks (solutions, visible and hidden tests);
``nbgrader generate_assignment <id>`` writes the student versions to ``exercises/``.
Run ``python -m autograder release`` to regenerate every assignment at once.
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "nbbackprop"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# the stub students see in place of every solution region
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("replace this line with your code: the docstring says what")'
}

# a cell that runs longer than this is stopped and its tests score 0
c.Execute.timeout = 120
# warnings on stderr (a DeprecationWarning from a library, a RuntimeWarning) must not zero a test cell:
# nbgrader gives 0 points to any test cell with stderr output, so drop stderr that is only warnings
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\w*Warning: "
# a student who deletes a test cell gets it back, with its hidden tests, when autograding
c.OverwriteCells.add_missing_cells = True
# every released notebook opens by saying it is generated, and from what
c.IncludeHeaderFooter.header = os.path.join(c.CourseDirectory.root, "solutions", "header.ipynb")
