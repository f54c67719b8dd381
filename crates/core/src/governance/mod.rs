//! Governance: who may call, and how much. Issue 10 builds it in steps; this
//! is the first: the virtual key format and how its secret is kept.

pub mod virtual_key;
