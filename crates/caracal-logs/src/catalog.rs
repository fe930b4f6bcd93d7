//! Every log type caracal knows: the native parsers ([`PARSERS`]), the bundled schemas
//! (the repository's `schemas/` folder, embedded at build time and loaded like a user's
//! own) and the user's schema files. A user schema may replace a bundled one of the same
//! name, never a native one.

use std::path::PathBuf;
use std::sync::LazyLock;

use crate::error::Error;
use crate::parsers::{PARSERS, Parser};
use crate::schema::CustomParser;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/bundled_schemas.rs"));
}

/// Where a log type's parser comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TypeSource {
    /// A Rust parser in [`PARSERS`].
    Native,
    /// A schema of the bundled `schemas/` folder.
    Bundled,
    /// A schema file the user passed.
    User,
}

impl TypeSource {
    /// `native`, `bundled schema` or `user schema`.
    pub fn as_str(self) -> &'static str {
        match self {
            TypeSource::Native => "native",
            TypeSource::Bundled => "bundled schema",
            TypeSource::User => "user schema",
        }
    }
}

static BUNDLED: LazyLock<Result<Vec<CustomParser>, String>> = LazyLock::new(|| {
    embedded::BUNDLED
        .iter()
        .map(|(path, text)| {
            CustomParser::from_yaml(text, &format!("schemas/{path}")).map_err(|e| e.to_string())
        })
        .collect()
});

/// The bundled schemas, parsed once.
pub fn bundled() -> Result<&'static [CustomParser], Error> {
    match &*BUNDLED {
        Ok(parsers) => Ok(parsers),
        Err(reason) => {
            Err(Error::Schema { name: "bundled schemas".into(), reason: reason.clone() })
        }
    }
}

/// The log types of one configuration: native, bundled and the user's schemas.
#[derive(Debug)]
pub struct Catalog {
    bundled: &'static [CustomParser],
    user: Vec<CustomParser>,
}

impl Catalog {
    /// The native and bundled types plus `user` schemas. A user schema named like a native
    /// type, or like another user schema, is an error.
    pub fn new(user: Vec<CustomParser>) -> Result<Self, Error> {
        for (i, u) in user.iter().enumerate() {
            let name = u.log_type();
            let clash =
                |reason: &str| Error::Schema { name: name.to_owned(), reason: reason.into() };
            if PARSERS.iter().any(|p| p.log_type() == name) {
                return Err(clash("a native log type has this name"));
            }
            if user[..i].iter().any(|o| o.log_type() == name) {
                return Err(clash("two schema files name this log type"));
            }
        }
        Ok(Catalog { bundled: bundled()?, user })
    }

    /// [`Catalog::new`] with the user's schema files read.
    pub fn load(paths: &[PathBuf]) -> Result<Self, Error> {
        Self::new(paths.iter().map(|p| CustomParser::from_file(p)).collect::<Result<_, _>>()?)
    }

    /// Every type with where it comes from, sorted by name.
    pub fn entries(&self) -> Vec<(&dyn Parser, TypeSource)> {
        let overridden = |name: &str| self.user.iter().any(|u| u.log_type() == name);
        let mut all: Vec<(&dyn Parser, TypeSource)> = PARSERS
            .iter()
            .map(|p| (*p, TypeSource::Native))
            .chain(
                self.bundled
                    .iter()
                    .filter(|b| !overridden(b.log_type()))
                    .map(|b| (b as &dyn Parser, TypeSource::Bundled)),
            )
            .chain(self.user.iter().map(|u| (u as &dyn Parser, TypeSource::User)))
            .collect();
        all.sort_by(|a, b| a.0.log_type().cmp(b.0.log_type()));
        all
    }

    /// Every parser, sorted by log type.
    pub fn parsers(&self) -> Vec<&dyn Parser> {
        self.entries().into_iter().map(|(p, _)| p).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_schemas_load_and_no_name_is_taken_twice() {
        let catalog = Catalog::new(Vec::new()).expect("bundled schemas are valid");
        let entries = catalog.entries();
        assert!(entries.iter().any(|(_, s)| *s == TypeSource::Bundled));
        assert!(entries.windows(2).all(|w| w[0].0.log_type() < w[1].0.log_type()));
    }

    #[test]
    fn a_user_schema_replaces_a_bundled_one_but_not_a_native_one() {
        let bundled = bundled().expect("valid");
        let Some(first) = bundled.first() else { return };
        let yaml = |name: &str| {
            format!(
                "name: {name}\nparser: {{ json: {{}} }}\nmatch: [{{ field: zzz }}]\nfields: [{{ name: zzz }}]\n"
            )
        };
        let mine = CustomParser::from_yaml(&yaml(first.log_type()), "t").expect("valid");
        let catalog = Catalog::new(vec![mine]).expect("replacing a bundled type is allowed");
        let same: Vec<_> = catalog
            .entries()
            .into_iter()
            .filter(|(p, _)| p.log_type() == first.log_type())
            .collect();
        assert_eq!(same.len(), 1);
        assert_eq!(same[0].1, TypeSource::User);
        let native = CustomParser::from_yaml(&yaml("AWS.CloudTrail"), "t").expect("valid");
        let err = Catalog::new(vec![native]).expect_err("native names are taken");
        assert!(err.to_string().contains("native log type"), "{err}");
    }

    #[test]
    fn no_bundled_schema_claims_an_empty_object_or_a_blank_line() {
        use crate::parsers::{Input, ObjectState, Parse};
        let mut state = ObjectState::new(chrono::Utc::now());
        for p in bundled().expect("valid") {
            let mut json = Input::Json(serde_json::Value::Object(serde_json::Map::new()));
            assert!(matches!(p.parse(&mut json, &mut state), Parse::NotMine), "{}", p.log_type());
            let mut text = Input::Text("");
            assert!(matches!(p.parse(&mut text, &mut state), Parse::NotMine), "{}", p.log_type());
        }
    }
}

/// The current name of `log_type`: itself, or the name a renamed type has now (with a
/// warning, so old sources files and `--log-types` keep working while they are updated).
pub fn current_name(log_type: &str) -> &str {
    let current = caracal_core::event::current_log_type(log_type);
    if current != log_type {
        tracing::warn!(
            old = log_type,
            new = current,
            "Log type {log_type} is now called {current}; update the configuration."
        );
    }
    current
}

#[cfg(test)]
mod renamed_tests {
    use super::*;

    #[test]
    fn renamed_types_resolve_to_types_the_catalog_has() {
        let catalog = Catalog::new(Vec::new()).expect("bundled schemas load");
        let names: Vec<&str> = catalog.parsers().iter().map(|p| p.log_type()).collect();
        for (old, new) in caracal_core::event::RENAMED_LOG_TYPES {
            assert_eq!(current_name(old), *new);
            assert!(names.contains(new) && !names.contains(old), "{old} -> {new}");
        }
        assert_eq!(current_name("AWS.CloudTrail"), "AWS.CloudTrail");
    }
}
