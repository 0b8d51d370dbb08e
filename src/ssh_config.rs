//! ~/.ssh/config managed block (being written).
