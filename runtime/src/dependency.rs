//! Typed dependencies: values an app registers once (a mailer, an HTTP client, a clock) and
//! handlers receive as [`Dep<T>`].
//!
//! The app holds them in a map keyed by `TypeId` ([`Dependencies`]). `#[endpoint]` records the
//! `Dep<T>` arguments of each handler in its `EndpointDef`, so `Api::into_router` refuses to
//! build a router whose endpoints need a type nobody registered: a forgotten registration is a
//! start-up error naming the type, not a 500 at the first request. A `Dep<T>` extracted where
//! no such record exists (a route added with `Api::merge`) and missing anyway is a 500 whose
//! log line names the type.

use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::ApiError;

/// What can be registered as a dependency: one value shared by every request, so
/// `Send + Sync + 'static` (implemented for every such type).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a dependency: every request and job shares it, so it must be `Send + Sync + 'static`",
    label = "not `Send + Sync + 'static`",
    note = "share mutable state through `Mutex`, `RwLock` or atomics, and `Arc` rather than `Rc`"
)]
pub trait Dependency: Send + Sync + 'static {}

impl<T: Send + Sync + 'static> Dependency for T {}

/// A dependency registered on the app, as a handler receives it: `mailer: Dep<Mailer>`.
/// Dereferences to `T`; cloning shares the one registered value.
///
/// Register the value with `App::dep` (tests: `TestApp::builder(..).dep(..)`).
// No bound on the struct: a `Dep<T>` whose `T` cannot be shared is reported once, by the
// `#[endpoint]` probe at the type (`Dependency`'s message), not at every place it is named.
pub struct Dep<T>(Arc<T>);

impl<T> Dep<T> {
    /// The shared value, to keep beyond the request (a spawned task, a service).
    pub fn arc(&self) -> Arc<T> {
        self.0.clone()
    }
}

impl<T> Deref for Dep<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Clone for Dep<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: fmt::Debug> fmt::Debug for Dep<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Dep").field(&*self.0).finish()
    }
}

impl<S: Send + Sync, T: Dependency> FromRequestParts<S> for Dep<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        crate::context::shared::<Dependencies>(&parts.extensions)
            .and_then(Dependencies::get::<T>)
            .ok_or_else(|| {
                // Only reachable from routes `#[endpoint]` did not declare (`Api::merge`):
                // declared ones were checked when the router was built. The type is logged,
                // the client sees the generic 500.
                ApiError::internal(format!(
                    "dependency `{}` is not registered: {}",
                    type_name::<T>(),
                    how_to_register(type_name::<T>())
                ))
            })
    }
}

/// The job handle's type name: it is registered by declaring jobs, not with `App::dep` (named
/// here rather than imported, so this module does not depend on `jobs`; a test in `jobs`
/// holds the two together).
pub(crate) const JOB_HANDLE: &str = "rampart_runtime::jobs::handle::Jobs";

/// How a missing dependency of this type is registered, for messages.
pub(crate) fn how_to_register(type_name: &str) -> &'static str {
    if type_name == JOB_HANDLE {
        "declare the app's jobs with `App::with_jobs(JobSet::new().job(..))`"
    } else {
        "register it with `App::dep(..)`"
    }
}

/// Which dependency a handler needs: its `TypeId` and, for messages, its name.
#[derive(Clone, Copy)]
pub struct DepKey {
    type_id: TypeId,
    type_name: &'static str,
}

impl DepKey {
    /// The key of `T`.
    pub fn of<T: Dependency>() -> Self {
        Self {
            type_id: TypeId::of::<T>(),
            type_name: type_name::<T>(),
        }
    }

    /// The type's name as the compiler writes it (`my_app::mail::Mailer`).
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
}

impl PartialEq for DepKey {
    fn eq(&self, other: &Self) -> bool {
        self.type_id == other.type_id
    }
}

impl Eq for DepKey {}

impl fmt::Debug for DepKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name)
    }
}

/// One registered value, type-erased, with its type's name for `Debug` and messages.
#[derive(Clone)]
struct Registered {
    value: Arc<dyn Any + Send + Sync>,
    type_name: &'static str,
}

/// The dependencies of an app: at most one value per type. Cheap to clone (one `Arc`);
/// registering copies the map, which happens at start-up only.
#[derive(Clone, Default)]
pub struct Dependencies {
    by_type: Arc<HashMap<TypeId, Registered>>,
}

impl Dependencies {
    /// No dependencies.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same set with `value` registered as the `T` handlers receive; replaces an earlier
    /// `T`.
    pub fn with<T: Dependency>(self, value: T) -> Self {
        self.with_shared(Arc::new(value))
    }

    /// Like [`Dependencies::with`], for a value already shared (`Arc<T>`) with code outside the
    /// app.
    pub fn with_shared<T: Dependency>(mut self, value: Arc<T>) -> Self {
        Arc::make_mut(&mut self.by_type).insert(
            TypeId::of::<T>(),
            Registered {
                value,
                type_name: type_name::<T>(),
            },
        );
        self
    }

    /// The set with every value of `other` added; `other` wins where both have a type.
    pub fn merged(mut self, other: Dependencies) -> Self {
        if self.by_type.is_empty() {
            return other;
        }
        let map = Arc::make_mut(&mut self.by_type);
        for (type_id, registered) in other.by_type.iter() {
            map.insert(*type_id, registered.clone());
        }
        self
    }

    /// The registered `T`, if any.
    pub fn get<T: Dependency>(&self) -> Option<Dep<T>> {
        let registered = self.by_type.get(&TypeId::of::<T>())?;
        registered.value.clone().downcast::<T>().ok().map(Dep)
    }

    /// Whether a value of the key's type is registered.
    pub fn contains(&self, key: DepKey) -> bool {
        self.by_type.contains_key(&key.type_id)
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.by_type.is_empty()
    }
}

impl fmt::Debug for Dependencies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The values need not be `Debug` (and may hold secrets): their types are what matters.
        let mut names: Vec<&str> = self.by_type.values().map(|r| r.type_name).collect();
        names.sort_unstable();
        f.debug_set().entries(names).finish()
    }
}

/// An endpoint argument `Dep<T>` whose `T` the app does not register (see
/// `ApiBuildError::MissingDependency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnregisteredDep {
    /// The type nobody registered, as the compiler writes it.
    pub type_name: &'static str,
    /// The endpoint that needs it.
    pub operation_id: &'static str,
}

/// The message of `ApiBuildError::MissingDependency`: each unregistered type with its
/// endpoint, then what to do.
pub(crate) fn describe_unregistered(
    type_name: &str,
    operation_id: &str,
    also: &[UnregisteredDep],
) -> String {
    let mut message = String::new();
    let first = std::iter::once((type_name, operation_id));
    let rest = also.iter().map(|dep| (dep.type_name, dep.operation_id));
    for (type_name, operation_id) in first.chain(rest) {
        message.push_str(&format!(
            "endpoint `{operation_id}` takes `Dep<{type_name}>`, but no `{type_name}` is registered; "
        ));
    }
    message.push_str(if also.is_empty() {
        "register one with `App::dep(..)`"
    } else {
        "register each with `App::dep(..)`"
    });
    message
}

/// What `#[endpoint]` records per handler argument, whatever its spelling (an alias, a renamed
/// import): a probe that answers `Some(key)` when the argument's type is rampart's [`Dep`],
/// `None` for any other type (an app's own extractor named `Dep` included).
pub type DepProbeFn = fn() -> Option<DepKey>;

/// Probe over a handler argument's type: `DepProbe::<A>::new().dep_key()` resolves to the
/// inherent method when `A` is `Dep<T>` (inherent methods win over trait methods), and to
/// [`DescribeNotDep`]'s otherwise. The inherent method's bound is checked only once it is
/// chosen, so a `Dep<T>` whose `T` is not a [`Dependency`] is one error, at the type.
#[doc(hidden)]
#[derive(Debug)]
pub struct DepProbe<A>(PhantomData<fn() -> A>);

impl<A> DepProbe<A> {
    /// A probe for `A`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> DepProbe<Dep<T>> {
    /// The key of `T`.
    pub fn dep_key(self) -> Option<DepKey>
    where
        T: Dependency,
    {
        Some(DepKey::of::<T>())
    }
}

/// Picked for an argument type that is not rampart's `Dep<T>`.
#[doc(hidden)]
pub trait DescribeNotDep {
    /// `None`.
    fn dep_key(self) -> Option<DepKey>;
}

impl<A> DescribeNotDep for DepProbe<A> {
    fn dep_key(self) -> Option<DepKey> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Mailer(&'static str);

    struct Dep<T>(T);

    #[test]
    fn a_registered_value_is_handed_out_and_a_later_one_replaces_it() {
        let deps = Dependencies::new().with(Mailer("smtp"));
        assert_eq!(deps.get::<Mailer>().as_deref(), Some(&Mailer("smtp")));
        assert!(deps.get::<u32>().is_none());
        let deps = deps.with(Mailer("fake"));
        assert_eq!(deps.get::<Mailer>().as_deref(), Some(&Mailer("fake")));
        assert!(deps.contains(DepKey::of::<Mailer>()));
        assert!(!deps.contains(DepKey::of::<u32>()));
    }

    #[test]
    fn merging_lets_the_second_set_win_and_keeps_the_first_untouched() {
        let app = Dependencies::new().with(Mailer("smtp")).with(7_u32);
        let test = Dependencies::new().with(Mailer("fake"));
        let merged = app.clone().merged(test);
        assert_eq!(merged.get::<Mailer>().as_deref(), Some(&Mailer("fake")));
        assert_eq!(merged.get::<u32>().as_deref(), Some(&7));
        assert_eq!(app.get::<Mailer>().as_deref(), Some(&Mailer("smtp")));
        assert_eq!(
            format!("{merged:?}"),
            format!("{{\"{}\", \"u32\"}}", type_name::<Mailer>())
        );
    }

    #[test]
    fn the_probe_recognises_rampart_dep_only() {
        #[allow(unused_imports)]
        use super::DescribeNotDep as _;
        let ours = DepProbe::<super::Dep<Mailer>>::new().dep_key();
        assert_eq!(ours, Some(DepKey::of::<Mailer>()));
        assert_eq!(ours.map(|key| key.type_name()), Some(type_name::<Mailer>()));
        // A local type named `Dep`: spelled the same, not rampart's.
        assert_eq!(DepProbe::<Dep<Mailer>>::new().dep_key(), None);
        let _ = Dep(0);
    }
}
