//! VS Code settings tests (issue 3).
