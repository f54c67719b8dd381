//! Databricks REST shapes: the Unity Catalog model list and the error body.

pub mod unity_catalog;
