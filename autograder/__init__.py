"""The grading pipeline of nbbackprop: the nbgrader route and the out-of-process grader."""
