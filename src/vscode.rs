//! VS Code settings (issue 3): placeholder until the settings editor lands.
