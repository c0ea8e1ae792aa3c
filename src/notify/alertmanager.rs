//! The worker's [`Deliver`] over HTTP: `POST {url}/api/v2/alerts` to each configured
//! Alertmanager, with the configured timeout, CA, and basic or bearer authentication.
//!
//! The worker runs on a blocking thread; each request runs on the tokio runtime through its
//! handle.

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use tokio::runtime::Handle;

use super::error::AlertmanagerError;
use super::worker::{Deliver, Posted};
use crate::config::NotifyConfig;

/// The Alertmanagers of `[notify] alertmanager_urls`.
pub struct Alertmanagers {
    client: reqwest::Client,
    /// `{url}/api/v2/alerts`, one per Alertmanager.
    endpoints: Vec<String>,
    /// The base URLs, as configured (for logs).
    urls: Vec<String>,
    basic: Option<(String, String)>,
    bearer: Option<String>,
    handle: Handle,
}

impl Alertmanagers {
    /// A client for `c`'s URLs, running requests on `handle`.
    pub fn new(c: &NotifyConfig, handle: Handle) -> Result<Self, AlertmanagerError> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_millis(c.request_timeout_ms))
            .connect_timeout(Duration::from_millis(c.request_timeout_ms));
        if let Some(path) = &c.tls_ca_file {
            let pem = std::fs::read(path).map_err(|source| AlertmanagerError::CaRead {
                path: path.clone(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|source| {
                AlertmanagerError::CaParse {
                    path: path.clone(),
                    source,
                }
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build().map_err(AlertmanagerError::Build)?;
        Ok(Alertmanagers {
            client,
            endpoints: c
                .alertmanager_urls
                .iter()
                .map(|u| format!("{}/api/v2/alerts", u.trim_end_matches('/')))
                .collect(),
            urls: c.alertmanager_urls.clone(),
            basic: c
                .basic_auth_username
                .clone()
                .map(|u| (u, c.basic_auth_password.expose().to_owned())),
            bearer: (!c.bearer_token.is_empty()).then(|| c.bearer_token.expose().to_owned()),
            handle,
        })
    }

    async fn post_async(&self, target: usize, body: Vec<u8>) -> Posted {
        let Some(endpoint) = self.endpoints.get(target) else {
            return Posted::Rejected {
                status: 0,
                body: "no such Alertmanager".to_owned(),
            };
        };
        let mut request = self
            .client
            .post(endpoint)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some((user, password)) = &self.basic {
            request = request.basic_auth(user, Some(password));
        } else if let Some(token) = &self.bearer {
            request = request.bearer_auth(token);
        }
        let url = &self.urls[target];
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    return Posted::Accepted;
                }
                let text = response.text().await.unwrap_or_default();
                let text: String = text.chars().take(500).collect();
                if status.is_client_error() {
                    Posted::Rejected {
                        status: status.as_u16(),
                        body: text,
                    }
                } else {
                    tracing::warn!(%url, status = status.as_u16(), response = %text, "Alertmanager answered with an error; retrying");
                    Posted::Retry("server_error")
                }
            }
            Err(e) if e.is_timeout() => {
                tracing::warn!(%url, "Alertmanager timed out; retrying");
                Posted::Retry("timeout")
            }
            Err(e) => {
                tracing::warn!(%url, error = %e, "Alertmanager unreachable; retrying");
                Posted::Retry("unreachable")
            }
        }
    }
}

impl Deliver for Alertmanagers {
    fn targets(&self) -> usize {
        self.endpoints.len()
    }

    fn post(&mut self, target: usize, body: &[u8]) -> Posted {
        let handle = self.handle.clone();
        handle.block_on(self.post_async(target, body.to_vec()))
    }
}
