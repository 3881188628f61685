//! Operation ids: one per command the user confirmed, from the confirm dialog to the
//! result, in the audit log and on the screen.

use serde::Serialize;

/// Identifies one operation from confirmation to result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct OpId(pub u64);

impl std::fmt::Display for OpId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}
