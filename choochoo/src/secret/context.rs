//! What serializing a [`Secret`](super::Secret) does, set by the runtime around each
//! encoding it makes, on the thread that makes it: hash it with the store's key (for a
//! station's key), stand for it with a fixed mark (for a node's name), or pass it by hand
//! within the process (for a copy). With none of these set, a secret refuses to be encoded,
//! so no encoding the runtime stores or sends can hold one.

use super::key::Keys;
use crate::value::Shared;
use std::cell::RefCell;
use std::sync::Arc;

/// What a secret met while encoding becomes.
#[derive(Clone, Default)]
pub(super) enum Mode {
    /// An error: the value is being stored or sent.
    #[default]
    Refuse,
    /// The keyed hash of its encoding, with the key of these keys.
    Keyed { keys: Arc<Keys>, create: bool },
    /// A fixed mark, the same for every secret.
    Named,
    /// An index into the secrets passed by hand to the decoder.
    Copy,
}

thread_local! {
    static MODE: RefCell<Mode> = const { RefCell::new(Mode::Refuse) };
    /// The secrets an in-process copy is passing from its encoder to its decoder.
    static PASSED: RefCell<Vec<Shared>> = const { RefCell::new(Vec::new()) };
    /// Whether a secret was written as the mark since [`named`] started.
    static MARKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Whether a secret refused to be encoded since [`refusing`] started.
    static REFUSED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `encode` and says whether a secret in the value refused to be encoded (the
/// encoder's own error does not keep the reason).
pub(crate) fn refusing<R>(encode: impl FnOnce() -> R) -> (R, bool) {
    let outer = REFUSED.with(|refused| refused.replace(false));
    let result = encode();
    (result, REFUSED.with(|refused| refused.replace(outer)))
}

/// Notes that a secret refused to be encoded.
pub(super) fn refuse() {
    REFUSED.with(|refused| refused.set(true));
}

/// Runs `code` with secrets encoded as `mode`, then restores the mode before it.
fn with_mode<R>(mode: Mode, code: impl FnOnce() -> R) -> R {
    let outer = MODE.with(|current| current.replace(mode));
    let result = code();
    MODE.with(|current| current.replace(outer));
    result
}

/// Runs `code` with every secret it encodes hashed with the key of `keys`; `create` says
/// whether the store's own key may be made if it has none yet (not by a plan).
pub(crate) fn keyed<R>(keys: &Arc<Keys>, create: bool, code: impl FnOnce() -> R) -> R {
    let keys = keys.clone();
    with_mode(Mode::Keyed { keys, create }, code)
}

/// Runs `code` with every secret it encodes written as the same mark: for identities that
/// must not change when a secret does (a builder node's name). Says whether it met one.
pub(crate) fn named<R>(code: impl FnOnce() -> R) -> (R, bool) {
    let outer = MARKED.with(|marked| marked.replace(false));
    let result = with_mode(Mode::Named, code);
    (result, MARKED.with(|marked| marked.replace(outer)))
}

/// Notes that a secret was written as the mark.
pub(super) fn mark() {
    MARKED.with(|marked| marked.set(true));
}

/// Runs `code`, an encoding and its decoding on this thread, with secrets handed from one
/// to the other in memory.
pub(crate) fn copying<R>(code: impl FnOnce() -> R) -> R {
    let outer = PASSED.with(|passed| passed.take());
    let result = with_mode(Mode::Copy, code);
    PASSED.with(|passed| passed.replace(outer));
    result
}

/// The mode the secret being encoded now follows.
pub(super) fn mode() -> Mode {
    MODE.with(|mode| mode.borrow().clone())
}

/// Hands a secret to the decoder of the copy under way; its index.
pub(super) fn pass(value: Shared) -> u64 {
    PASSED.with(|passed| {
        let mut passed = passed.borrow_mut();
        passed.push(value);
        passed.len() as u64 - 1
    })
}

/// The secret handed at `index` by the encoder of the copy under way.
pub(super) fn passed(index: u64) -> Option<Shared> {
    if !matches!(MODE.with(|mode| mode.borrow().clone()), Mode::Copy) {
        return None;
    }
    let index = usize::try_from(index).ok()?;
    PASSED.with(|passed| passed.borrow().get(index).cloned())
}
