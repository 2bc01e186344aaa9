//! A station with its types erased, as the runner sees it (`ErasedStation`, implemented for
//! every `Station`), and the `Policy` its attempts follow.

use crate::checked::Checked;
use crate::hash::Digest;
use crate::station::{BoxError, Ctx, Inputs, Station};
use crate::value::Shared;
use std::any::Any;
use std::sync::Arc;

/// A station with its types erased, as the runner sees it.
pub(crate) trait ErasedStation: Send + Sync {
    fn id(&self) -> &'static str;
    fn name(&self) -> &'static str;
    fn fingerprint(&self) -> Digest;
    fn input_names(&self) -> &'static [&'static str];
    fn run(&self, ctx: &Ctx, inputs: &[&(dyn Any + Send + Sync)]) -> Result<Shared, BoxError>;
    fn has_check(&self) -> bool;
    fn check(
        &self,
        inputs: &[&(dyn Any + Send + Sync)],
        output: &(dyn Any + Send + Sync),
    ) -> Result<Checked, BoxError>;
    fn has_clean(&self) -> bool;
    fn clean(
        &self,
        inputs: &[&(dyn Any + Send + Sync)],
        output: &(dyn Any + Send + Sync),
    ) -> Result<(), BoxError>;
    fn policy(&self) -> Policy;
    fn resources(&self) -> &'static [&'static str];
    fn is_async(&self) -> bool;
}

/// How a station's attempts are made: retries after transient errors, and a time limit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub(crate) retries: u32,
    pub(crate) backoff: std::time::Duration,
    pub(crate) timeout: Option<std::time::Duration>,
}

const WRONG_TYPE: &str = "internal error: a station input has the wrong type";

impl<S: Station> ErasedStation for S {
    fn id(&self) -> &'static str {
        Station::id(self)
    }

    fn name(&self) -> &'static str {
        Station::name(self)
    }

    fn fingerprint(&self) -> Digest {
        Station::fingerprint(self)
    }

    fn input_names(&self) -> &'static [&'static str] {
        Station::input_names(self)
    }

    fn run(&self, ctx: &Ctx, inputs: &[&(dyn Any + Send + Sync)]) -> Result<Shared, BoxError> {
        let refs = S::Input::refs(inputs).ok_or(WRONG_TYPE)?;
        let output = Station::run(self, ctx, refs)?;
        Ok(Arc::new(output))
    }

    fn has_check(&self) -> bool {
        Station::has_check(self)
    }

    fn check(
        &self,
        inputs: &[&(dyn Any + Send + Sync)],
        output: &(dyn Any + Send + Sync),
    ) -> Result<Checked, BoxError> {
        let refs = S::Input::refs(inputs).ok_or(WRONG_TYPE)?;
        Station::check(self, refs, output.downcast_ref().ok_or(WRONG_TYPE)?)
    }

    fn has_clean(&self) -> bool {
        Station::has_clean(self)
    }

    fn clean(
        &self,
        inputs: &[&(dyn Any + Send + Sync)],
        output: &(dyn Any + Send + Sync),
    ) -> Result<(), BoxError> {
        let refs = S::Input::refs(inputs).ok_or(WRONG_TYPE)?;
        Station::clean(self, refs, output.downcast_ref().ok_or(WRONG_TYPE)?)
    }

    fn policy(&self) -> Policy {
        Policy {
            retries: self.retries(),
            backoff: self.backoff(),
            timeout: self.timeout(),
        }
    }

    fn resources(&self) -> &'static [&'static str] {
        Station::resources(self)
    }

    fn is_async(&self) -> bool {
        Station::is_async(self)
    }
}
