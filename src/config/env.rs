//! Environment overrides: `POSTLOAN__KAFKA__BOOTSTRAP_SERVERS=broker:9092` sets
//! `kafka.bootstrap_servers`. Segments are separated by `__` and lower-cased. The value is read
//! as the type of the key's default (text, integer, boolean); a key with no default (optional
//! text, or a `[kafka.properties]` entry) takes the text as is. Under `kafka.properties`, single
//! underscores in the name become dots: `POSTLOAN__KAFKA__PROPERTIES__COMPRESSION_TYPE=lz4`.

use super::{Config, Problems};

/// Prefix of every override.
pub const PREFIX: &str = "POSTLOAN__";

/// Applies every `POSTLOAN__…` variable of `env` to `value`, recording unreadable ones.
pub fn apply(
    value: &mut toml::Value,
    env: impl IntoIterator<Item = (String, String)>,
    p: &mut Problems,
) {
    let defaults = toml::Value::try_from(Config::default()).ok();
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(PREFIX))
        .collect();
    // Deterministic order whatever the environment's.
    vars.sort();
    for (name, raw) in vars {
        let mut path: Vec<String> = name[PREFIX.len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect();
        if path.iter().any(String::is_empty) {
            p.push("", format!("{name}: empty segment in the variable name"));
            continue;
        }
        if path.len() == 3 && path[0] == "kafka" && path[1] == "properties" {
            path[2] = path[2].replace('_', ".");
        }
        let default = defaults.as_ref().and_then(|d| lookup(d, &path));
        let parsed = match default {
            Some(toml::Value::Integer(_)) => raw
                .trim()
                .parse::<i64>()
                .map(toml::Value::Integer)
                .map_err(|_| "expected an integer"),
            Some(toml::Value::Boolean(_)) => match raw.trim() {
                "true" => Ok(toml::Value::Boolean(true)),
                "false" => Ok(toml::Value::Boolean(false)),
                _ => Err("expected true or false"),
            },
            Some(toml::Value::Float(_)) => raw
                .trim()
                .parse::<f64>()
                .map(toml::Value::Float)
                .map_err(|_| "expected a number"),
            Some(toml::Value::Array(_)) | Some(toml::Value::Table(_))
                if !(path.len() == 3 && path[1] == "properties") =>
            {
                toml::from_str::<toml::Table>(&format!("v = {raw}"))
                    .ok()
                    .and_then(|mut t| t.remove("v"))
                    .ok_or("expected a TOML value (array or inline table)")
            }
            _ => Ok(toml::Value::String(raw)),
        };
        match parsed {
            Ok(v) => set(value, &path, v),
            // The value may be a secret: name the variable, never echo it.
            Err(why) => p.push(&path.join("."), format!("{name}: {why}")),
        }
    }
}

fn lookup<'a>(v: &'a toml::Value, path: &[String]) -> Option<&'a toml::Value> {
    path.iter().try_fold(v, |cur, seg| cur.get(seg.as_str()))
}

fn set(v: &mut toml::Value, path: &[String], new: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for seg in parents {
        let toml::Value::Table(t) = cur else {
            return;
        };
        cur = t
            .entry(seg.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    if let toml::Value::Table(t) = cur {
        t.insert(last.clone(), new);
    }
}
