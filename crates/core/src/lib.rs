//! The embeddable Switchyard gateway.
//!
//! Build a [`Gateway`] from a [`config::GatewayConfig`] (the same JSON as the
//! config file) and call providers in-process:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let fake = switchyard_testkit::FakeUpstream::start().await?;
//! # let base_url = fake.url("/mlflow");
//! use switchyard_core::{ChatRequest, Gateway, config::GatewayConfig};
//! use switchyard_core::protocol::openai::chat::ChatMessage;
//!
//! let config = GatewayConfig::from_json_str(&format!(r#"{{
//!   "providers": {{
//!     "databricks-mlflow": {{
//!       "network_config": {{ "base_url": "{base_url}",
//!                           "extra_headers": {{ "Authorization": "Bearer test-token" }} }},
//!       "custom_provider_config": {{ "base_provider_type": "openai", "is_key_less": true }}
//!     }}
//!   }}
//! }}"#))?;
//! let gateway = Gateway::new(config)?;
//!
//! let reply = gateway
//!     .chat_completion(ChatRequest::new("databricks-mlflow", "llama", vec![ChatMessage::user("Hello!")]))
//!     .await?;
//! assert!(reply.text().unwrap_or_default().contains("Hello"));
//!
//! // Streaming: chunks arrive as the upstream sends them.
//! use futures::StreamExt;
//! let mut stream = gateway
//!     .chat_completion_stream(ChatRequest::new("databricks-mlflow", "llama", vec![ChatMessage::user("Hi")]))
//!     .await?;
//! let mut text = String::new();
//! while let Some(chunk) = stream.next().await {
//!     for choice in chunk?.choices {
//!         text.push_str(choice.delta.content.as_deref().unwrap_or(""));
//!     }
//! }
//! assert!(!text.is_empty());
//! # Ok(()) }
//! ```

pub mod attribution;
mod byte_stream;
mod call;
pub mod capture;
pub mod config;
pub mod config_service;
mod dispatch;
pub mod error;
mod gateway;
pub mod governance;
mod inbound;
pub mod json_path;
pub mod keys;
pub mod lifecycle;
mod log_fields;
mod model_id;
pub mod models;
pub mod observability;
pub mod plan;
pub mod provider;
pub mod redact;
pub mod relay;
pub mod request_type;
mod response;
pub mod routing;
mod sdk;
pub mod shaping;
mod snapshot;
pub mod tap;
pub mod upstream;
pub mod url_rule;
pub mod usage;

pub use error::GatewayError;
pub use gateway::Gateway;
pub use inbound::{Inbound, InboundHeaders};
pub use lifecycle::{RequestContext, RequestHooks};
pub use response::{Failure, ProxyBody, ProxyResponse};
pub use sdk::{ChatChunkStream, ChatRequest};
pub use snapshot::Snapshot;
pub use switchyard_protocol as protocol;
pub use usage::{End, Outcome, Usage};
