//! How the command line names a request's values in messages: by flag, or by the scenario file
//! and key the value came from.

use std::collections::BTreeSet;

/// Which values came from the scenario file, to name them in errors: a value from the file is
/// named by the file and its key (`sc.toml: workload.rate`), any other by its flag (`--rate`).
#[derive(Debug, Clone, Default)]
pub struct Origins {
    file: Option<String>,
    /// Request keys (`workload.rate`) whose values came from the file.
    from_file: BTreeSet<&'static str>,
}

impl Origins {
    /// The scenario file, when one was given.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// Values read from the scenario file `file` (each noted with [`Origins::note`]).
    pub fn in_file(file: &str) -> Origins {
        Origins {
            file: Some(file.to_string()),
            from_file: BTreeSet::new(),
        }
    }

    /// Records that the value at `key` came from the scenario file.
    pub fn note(&mut self, key: &'static str) {
        self.from_file.insert(key);
    }
}

impl servemath::Spelling for Origins {
    fn name(&self, key: &'static str) -> String {
        match &self.file {
            Some(file) if self.from_file.contains(key) => format!("{file}: {key}"),
            _ => flag(key),
        }
    }
}

/// The flag that sets a request key: `--` and the key's last part with `-` for `_`
/// (`workload.lengths_from` is `--lengths-from`), except where the flag reads better.
pub fn flag(key: &str) -> String {
    match key {
        "scheduler.kind" => "--scheduler".to_string(),
        "slo.ttft" => "--slo-ttft".to_string(),
        "slo.tpot" => "--slo-tpot".to_string(),
        "scenario" => "--config".to_string(),
        "deployment.params" => "--params".to_string(),
        _ => format!(
            "--{}",
            key.rsplit('.').next().unwrap_or(key).replace('_', "-")
        ),
    }
}
