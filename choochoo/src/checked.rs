//! What a check found: the state a remembered result stands for still holds in the world, or
//! the world drifted from it, and why.

use std::fmt;

/// What a station's check found in the world: the state its remembered result stands for
/// [`Holds`](Checked::Holds), or it [`Drifted`](Checked::Drifted), and why.
///
/// A check (`#[station(check = path)]`) returns `bool`, `Checked`, `Result<bool, E>` or
/// `Result<Checked, E>`. `false` is a drift without a reason; a reason is what `run -v`,
/// `plan --check`, `status --check`, the report and the defect ledger show after
/// `check failed: drift: `, so "role missing" and "password changed" read apart.
///
/// ```
/// use choochoo::{station, workflow, Checked, Runner, Store};
/// use std::path::{Path, PathBuf};
///
/// /// Writes the role's password where the "database" keeps it.
/// #[station(check = can_log_in)]
/// fn create_role(dir: &Path, role: &str) -> std::io::Result<PathBuf> {
///     std::fs::create_dir_all(dir)?;
///     let path = dir.join(role);
///     std::fs::write(&path, "secret")?;
///     Ok(path)
/// }
///
/// /// Only reads: a check must not change the world.
/// fn can_log_in(_dir: &Path, role: &str, path: &Path) -> std::io::Result<Checked> {
///     match std::fs::read_to_string(path) {
///         Ok(password) if password == "secret" => Ok(Checked::Holds),
///         Ok(_) => Ok(Checked::drifted(format!("role {role} cannot log in (password changed?)"))),
///         Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
///             Ok(Checked::drifted(format!("role {role} is missing")))
///         }
///         Err(error) => Err(error), // cannot tell: a failed attempt
///     }
/// }
///
/// workflow! {
///     fn role(dir: PathBuf) -> PathBuf { create_role(dir, "shop") }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("choochoo-checked-{}", std::process::id()));
/// let store = Store::open(dir.join(".choochoo"))?;
/// let runner = Runner::new(&store);
/// let path = runner.run(role(dir.join("db")))?.into_output();
///
/// std::fs::write(&path, "changed by hand")?;
/// let run = runner.run(role(dir.join("db")))?;
/// assert_eq!(
///     run.report().entries()[0].reason(),
///     Some("check failed: drift: role shop cannot log in (password changed?)")
/// );
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Checked {
    /// The state the remembered result stands for is there: the result is used.
    Holds,
    /// The world drifted from it, for this reason (empty: no reason given); the station
    /// runs again.
    Drifted(String),
}

impl Checked {
    /// A drift, and why: `Checked::drifted("role shop is missing")`.
    pub fn drifted(reason: impl Into<String>) -> Checked {
        Checked::Drifted(reason.into())
    }

    /// Whether the state holds.
    pub fn holds(&self) -> bool {
        matches!(self, Checked::Holds)
    }

    /// The reason of a drift, when one was given.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Checked::Drifted(reason) if !reason.is_empty() => Some(reason),
            _ => None,
        }
    }

    /// Why a drifted station runs again, as reports say it: `check failed: drift`, then the
    /// check's reason after `: ` when it gave one. `None` when the state holds.
    pub(crate) fn drift(&self) -> Option<String> {
        match (self, self.reason()) {
            (Checked::Holds, _) => None,
            (Checked::Drifted(_), None) => Some("check failed: drift".to_owned()),
            (Checked::Drifted(_), Some(reason)) => Some(format!("check failed: drift: {reason}")),
        }
    }
}

impl From<bool> for Checked {
    /// `true` holds; `false` drifted, without a reason.
    fn from(holds: bool) -> Checked {
        if holds {
            Checked::Holds
        } else {
            Checked::Drifted(String::new())
        }
    }
}

impl fmt::Display for Checked {
    /// `holds`, `drift`, or `drift: <reason>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            _ if self.holds() => f.write_str("holds"),
            None => f.write_str("drift"),
            Some(reason) => write!(f, "drift: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drift_reads_with_its_reason_and_false_reads_as_before() {
        assert_eq!(Checked::from(true), Checked::Holds);
        assert_eq!(Checked::Holds.drift(), None);
        assert_eq!(
            Checked::from(false).drift().as_deref(),
            Some("check failed: drift")
        );
        let drifted = Checked::drifted("role shop is missing");
        assert_eq!(
            drifted.drift().as_deref(),
            Some("check failed: drift: role shop is missing")
        );
        assert_eq!(drifted.to_string(), "drift: role shop is missing");
        assert_eq!(Checked::from(false).reason(), None);
    }
}
