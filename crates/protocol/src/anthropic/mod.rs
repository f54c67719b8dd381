//! Anthropic dialect. The Messages converters arrive with the translation engine;
//! for now: the error body, used when reading upstream errors.

pub mod error;
