//! Causes: what failures of different stations must share to be one event of their run.
//! One database down fails the role, the database and the migration, each with words of
//! its own around the same refused connection: the same message once its station is left
//! out, or the same root error at the bottom of the chain, both masked as signatures are.

use super::signature::{PLACEHOLDERS, mask};

/// What a failure shares with the other failures of its run that have the same cause.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Cause {
    /// The message masked, without the station: the signature after its station prefix.
    pub(crate) message: String,
    /// The root error masked: the last of the chain, where an outage shows through the
    /// words each station wraps it in.
    pub(crate) root: String,
}

/// The cause of a failure of `node` with `message` and the error `chain` (outermost first);
/// `None` for a failure about `node` alone, whose message names it in backticks (as
/// choochoo's own failures of a station do: masked, its name would no longer tell it from
/// another station's).
pub(crate) fn cause(node: &str, message: &str, chain: &[String]) -> Option<Cause> {
    if message.contains(&format!("`{node}`")) {
        return None;
    }
    let message = mask(message);
    if !says_something(&message) {
        return None;
    }
    let root = chain
        .last()
        .map(|root| mask(root))
        .filter(|root| says_something(root))
        .unwrap_or_else(|| message.clone());
    Some(Cause { message, root })
}

/// Whether a masked message has a word of its own: two bare numbers are not one cause, and
/// a root error without one says less than the message around it.
fn says_something(masked: &str) -> bool {
    let mut rest = masked.to_owned();
    for placeholder in PLACEHOLDERS {
        rest = rest.replace(placeholder, "");
    }
    rest.chars().any(char::is_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_worded_apart_share_their_root_cause() {
        let refused = "Connection refused (os error 111)".to_owned();
        let role = cause(
            "shop.role",
            "create role shop: Connection refused (os error 111)",
            &["create role shop".to_owned(), refused.clone()],
        )
        .unwrap();
        let db = cause(
            "shop.db",
            "create database shop_2: Connection refused (os error 111)",
            &["create database shop_2".to_owned(), refused.clone()],
        )
        .unwrap();
        assert_ne!(role.message, db.message);
        assert_eq!(role.root, db.root);
        assert_eq!(role.root, "Connection refused (os error <n>)");
        // One error without causes is its own root.
        let bare = cause("shop.app", &refused, std::slice::from_ref(&refused)).unwrap();
        assert_eq!(bare.root, role.root);
        assert_eq!(bare.message, bare.root);
    }

    #[test]
    fn a_failure_about_its_own_station_has_no_shared_cause() {
        let message = "work required after visit: `shop.role` ran, but its check still says \
                       the work is not done";
        assert_eq!(cause("shop.role", message, &[message.to_owned()]), None);
        assert!(cause("shop.db", message, &[message.to_owned()]).is_some());
        // Nothing but volatile parts: no cause worth sharing.
        assert_eq!(cause("a", "42", &["42".to_owned()]), None);
        let vague_root = cause("a", "failed: 42", &["failed".to_owned(), "42".to_owned()]);
        assert_eq!(vague_root.unwrap().root, "failed: <n>");
    }
}
