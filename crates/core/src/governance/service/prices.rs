//! The price table through the API. Prices from the config file are
//! file-managed (shown, not editable here), like providers.

use serde::Serialize;
use serde_json::Value;

use super::GovernanceService;
use crate::config::check_price;
use crate::config_service::{ConfigError, Entity};
use crate::governance::records::Price;
use crate::governance::validate::typed;

#[derive(Debug, Clone, Serialize)]
pub struct PriceView {
    #[serde(flatten)]
    pub price: Price,
    /// `file` or `api`.
    pub source: &'static str,
}

impl GovernanceService {
    pub async fn list_prices(&self) -> Result<Vec<PriceView>, ConfigError> {
        let mut out: Vec<PriceView> =
            self.file_prices.iter().map(|p| PriceView { price: p.clone(), source: "file" }).collect();
        for p in self.store.list_prices().await? {
            if !self.file_prices.iter().any(|f| f.model == p.model) {
                out.push(PriceView { price: p, source: "api" });
            }
        }
        Ok(out)
    }

    /// Creates or replaces the price of one model glob.
    pub async fn put_price(&self, body: Value) -> Result<PriceView, ConfigError> {
        let price: Price = typed(&body, "").map_err(ConfigError::Invalid)?;
        let mut out = Vec::new();
        check_price(&price, "", &mut out);
        if !out.is_empty() {
            return Err(ConfigError::Invalid(out));
        }
        if self.file_prices.iter().any(|f| f.model == price.model) {
            return Err(ConfigError::FileManaged(Entity::Price, price.model));
        }
        let _guard = self.write.lock().await;
        let mut all = self.store.list_prices().await?;
        all.retain(|p| p.model != price.model);
        all.push(price.clone());
        self.store.replace_prices(&all).await?;
        self.reload().await?;
        Ok(PriceView { price, source: "api" })
    }

    pub async fn delete_price(&self, model: &str) -> Result<(), ConfigError> {
        if self.file_prices.iter().any(|f| f.model == model) {
            return Err(ConfigError::FileManaged(Entity::Price, model.to_string()));
        }
        let _guard = self.write.lock().await;
        let mut all = self.store.list_prices().await?;
        let before = all.len();
        all.retain(|p| p.model != model);
        if all.len() == before {
            return Err(ConfigError::NotFound(Entity::Price, model.to_string()));
        }
        self.store.replace_prices(&all).await?;
        self.reload().await
    }
}
