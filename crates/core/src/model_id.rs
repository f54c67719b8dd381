//! `"model": "<provider>/<model>"`, split at the first `/`; the rest goes
//! upstream unchanged (it may itself contain slashes). A leaf: configuration
//! validation and routing both read model ids this way.

/// Splits a routed model id. `None` when there is no provider prefix.
pub fn split_model(model: &str) -> Option<(&str, &str)> {
    let (provider, rest) = model.split_once('/')?;
    if provider.is_empty() || rest.is_empty() {
        return None;
    }
    Some((provider, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_first_slash_only() {
        assert_eq!(split_model("databricks-mlflow/llama"), Some(("databricks-mlflow", "llama")));
        assert_eq!(split_model("p/meta-llama/Llama-3/x"), Some(("p", "meta-llama/Llama-3/x")));
        assert_eq!(split_model("gpt-4o"), None);
        assert_eq!(split_model("/gpt"), None);
        assert_eq!(split_model("p/"), None);
    }
}
