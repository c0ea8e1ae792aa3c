//! The security settings of `[kafka]` (protocol, SASL, TLS) and the pass-through `properties`:
//! their checks, and the librdkafka properties they become.

use super::{KafkaConfig, Problems};

const PROTOCOLS: [&str; 4] = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"];

/// The SASL mechanisms this build supports. `GSSAPI` (Kerberos) needs librdkafka built with
/// Cyrus SASL (rdkafka's `gssapi` feature), which this build leaves out; `OAUTHBEARER` needs a
/// token callback the monitor does not have.
pub const SASL_MECHANISMS: [&str; 3] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

/// librdkafka properties the monitor sets itself, from the `[kafka]` field named beside each:
/// refused in `properties` (one place for each setting).
pub const OWNED_PROPERTIES: [(&str, &str); 15] = [
    ("bootstrap.servers", "kafka.bootstrap_servers"),
    ("group.id", "kafka.group_id"),
    ("transactional.id", "kafka.group_id and kafka.instance_id"),
    ("enable.auto.commit", "kafka.processing_guarantee"),
    ("isolation.level", "kafka.processing_guarantee"),
    ("security.protocol", "kafka.security_protocol"),
    ("sasl.mechanism", "kafka.sasl_mechanism"),
    ("sasl.mechanisms", "kafka.sasl_mechanism"),
    ("sasl.username", "kafka.sasl_username"),
    ("sasl.password", "kafka.sasl_password"),
    ("ssl.ca.location", "kafka.ssl_ca_location"),
    ("ssl.certificate.location", "kafka.ssl_certificate_location"),
    ("ssl.key.location", "kafka.ssl_key_location"),
    ("ssl.key.password", "kafka.ssl_key_password"),
    (
        "ssl.endpoint.identification.algorithm",
        "kafka.ssl_endpoint_identification",
    ),
];

/// Whether a librdkafka property (lower-cased) carries a secret, so may not be passed through
/// `properties`: its name contains `password`, `passphrase` or `secret`, it is an in-line PEM
/// (`*.pem`: `ssl.key.pem`, and for simplicity `ssl.certificate.pem` and `ssl.ca.pem` too — use
/// the `*_location` fields), or it is `sasl.oauthbearer.config` or `ssl_key` (which librdkafka
/// itself treats as sensitive).
pub fn is_secret_property(key: &str) -> bool {
    ["password", "passphrase", "secret"]
        .iter()
        .any(|w| key.contains(w))
        || key.ends_with(".pem")
        || key == "sasl.oauthbearer.config"
        || key == "ssl_key"
}

/// Pass-through properties validation does not hand to librdkafka: setting
/// `plugin.library.paths` loads the plugins, which `check-config` must not do.
const PROBE_SKIPPED: [&str; 1] = ["plugin.library.paths"];

impl KafkaConfig {
    /// The protocol, lower-cased, when it is one librdkafka knows.
    fn protocol(&self) -> Option<&'static str> {
        let given = self.security_protocol.to_ascii_lowercase();
        PROTOCOLS.into_iter().find(|p| *p == given)
    }

    /// Whether the connection is encrypted (`ssl`, `sasl_ssl`).
    pub fn uses_tls(&self) -> bool {
        self.protocol().is_some_and(|p| p.ends_with("ssl"))
    }

    /// Whether the client authenticates with SASL (`sasl_plaintext`, `sasl_ssl`).
    pub fn uses_sasl(&self) -> bool {
        self.protocol().is_some_and(|p| p.starts_with("sasl"))
    }

    /// TLS and SASL settings: each needs the others it works with, and nothing is set that the
    /// protocol would silently ignore. No message quotes a secret.
    pub(super) fn validate_security(&self, p: &mut Problems) {
        let Some(protocol) = self.protocol() else {
            p.push(
                "kafka.security_protocol",
                format!(
                    "must be one of {}, got {:?}",
                    PROTOCOLS.join(", "),
                    self.security_protocol
                ),
            );
            return;
        };
        if let Some(m) = &self.sasl_mechanism {
            if !SASL_MECHANISMS.contains(&m.as_str()) {
                p.push(
                    "kafka.sasl_mechanism",
                    format!("must be one of {}, got {m:?}", SASL_MECHANISMS.join(", ")),
                );
            }
        }
        for (path, value) in [
            ("kafka.ssl_ca_location", &self.ssl_ca_location),
            (
                "kafka.ssl_certificate_location",
                &self.ssl_certificate_location,
            ),
            ("kafka.ssl_key_location", &self.ssl_key_location),
            ("kafka.sasl_username", &self.sasl_username),
            ("kafka.sasl_mechanism", &self.sasl_mechanism),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                p.push(path, "must not be empty (leave it out instead)");
            }
        }
        for (path, secret) in [
            ("kafka.sasl_password", &self.sasl_password),
            ("kafka.ssl_key_password", &self.ssl_key_password),
        ] {
            if secret.expose().contains('\0') {
                p.push(path, "must not contain a NUL character");
            }
        }
        if self.uses_sasl() {
            if self.sasl_mechanism.is_none() {
                p.push(
                    "kafka.sasl_mechanism",
                    format!("is required with security_protocol {protocol:?}"),
                );
            }
            if self.sasl_username.is_none() {
                p.push(
                    "kafka.sasl_username",
                    format!("is required with security_protocol {protocol:?}"),
                );
            }
            if self.sasl_password.is_empty() {
                p.push(
                    "kafka.sasl_password",
                    format!(
                        "is required with security_protocol {protocol:?} \
                         (set POSTLOAN__KAFKA__SASL_PASSWORD)"
                    ),
                );
            }
            if !self.uses_tls() && self.sasl_mechanism.as_deref() == Some("PLAIN") {
                p.push(
                    "kafka.sasl_mechanism",
                    "PLAIN sends the password itself, in clear over sasl_plaintext: \
                     use sasl_ssl, or a SCRAM mechanism",
                );
            }
        } else if !self.sasl_password.is_empty() {
            let clear = if self.uses_tls() {
                ""
            } else {
                ", and the connection is not encrypted"
            };
            p.push(
                "kafka.sasl_password",
                format!(
                    "is set but security_protocol {protocol:?} does not authenticate with SASL \
                     (the password would not be used){clear}: use sasl_ssl"
                ),
            );
        }
        if !self.uses_tls() {
            for (path, set) in [
                ("kafka.ssl_ca_location", self.ssl_ca_location.is_some()),
                (
                    "kafka.ssl_certificate_location",
                    self.ssl_certificate_location.is_some(),
                ),
                ("kafka.ssl_key_location", self.ssl_key_location.is_some()),
                ("kafka.ssl_key_password", !self.ssl_key_password.is_empty()),
            ] {
                if set {
                    p.push(
                        path,
                        format!(
                            "is set but security_protocol {protocol:?} does not use TLS \
                             (use ssl or sasl_ssl)"
                        ),
                    );
                }
            }
        }
        match (&self.ssl_certificate_location, &self.ssl_key_location) {
            (Some(_), None) => p.push(
                "kafka.ssl_key_location",
                "is required with ssl_certificate_location (the certificate's private key)",
            ),
            (None, Some(_)) => p.push(
                "kafka.ssl_certificate_location",
                "is required with ssl_key_location (the key's certificate)",
            ),
            _ => {}
        }
        if !self.ssl_key_password.is_empty() && self.ssl_key_location.is_none() {
            p.push(
                "kafka.ssl_key_password",
                "is set but there is no ssl_key_location to decrypt",
            );
        }
    }

    /// Pass-through properties: none a field owns, none carrying a secret, and each one
    /// librdkafka accepts. Values are never quoted for refused keys.
    pub(super) fn validate_properties(&self, p: &mut Problems) {
        for (key, value) in &self.properties {
            let lower = key.to_ascii_lowercase();
            if let Some((_, field)) = OWNED_PROPERTIES.iter().find(|(k, _)| *k == lower) {
                p.push(
                    "kafka.properties",
                    format!("{key:?} is set by the monitor itself; use {field}"),
                );
            } else if is_secret_property(&lower) {
                p.push(
                    "kafka.properties",
                    format!(
                        "{key:?} carries a secret, and pass-through values are not redacted: \
                         secrets go only in kafka.sasl_password and kafka.ssl_key_password"
                    ),
                );
            } else if !PROBE_SKIPPED.contains(&key.as_str()) {
                // librdkafka checks the name and the value as client creation would; one
                // property at a time, so every bad one is reported. Its message may quote the
                // value: only keys without secrets get here.
                match rdkafka::ClientConfig::new()
                    .set(key.as_str(), value.as_str())
                    .create_native_config()
                {
                    Ok(_) => {}
                    Err(rdkafka::error::KafkaError::ClientConfig(_, desc, _, _)) => {
                        let desc = desc.trim_end_matches('.');
                        // An alias is reported under its canonical name: name both.
                        if desc.contains(&format!("{key:?}")) {
                            p.push("kafka.properties", desc.to_owned());
                        } else {
                            p.push("kafka.properties", format!("{key:?}: {desc}"));
                        }
                    }
                    Err(other) => p.push("kafka.properties", format!("{key:?}: {other}")),
                }
            }
        }
    }

    /// librdkafka properties common to every client: servers, security, pass-through. The
    /// result holds the secrets in clear: hand it to librdkafka, never print it (rdkafka's
    /// `ClientConfig` `Debug` leaves the secret keys out).
    pub fn client_properties(&self) -> Vec<(String, String)> {
        let mut props = vec![
            (
                "bootstrap.servers".to_owned(),
                self.bootstrap_servers.clone(),
            ),
            (
                "security.protocol".to_owned(),
                self.security_protocol.to_ascii_lowercase(),
            ),
        ];
        let mut opt = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                props.push((k.to_owned(), v.clone()));
            }
        };
        opt("sasl.mechanism", &self.sasl_mechanism);
        opt("sasl.username", &self.sasl_username);
        opt("ssl.ca.location", &self.ssl_ca_location);
        opt("ssl.certificate.location", &self.ssl_certificate_location);
        opt("ssl.key.location", &self.ssl_key_location);
        for (k, secret) in [
            ("sasl.password", &self.sasl_password),
            ("ssl.key.password", &self.ssl_key_password),
        ] {
            if !secret.is_empty() {
                props.push((k.to_owned(), secret.expose().to_owned()));
            }
        }
        if self.uses_tls() {
            let algorithm = if self.ssl_endpoint_identification {
                "https"
            } else {
                "none"
            };
            props.push((
                "ssl.endpoint.identification.algorithm".to_owned(),
                algorithm.to_owned(),
            ));
        }
        props.extend(self.properties.iter().map(|(k, v)| (k.clone(), v.clone())));
        props
    }
}
