//! Short-name resolution for pull (containers-registries.conf(5), "Short-Name Aliasing"): a short
//! name (`busybox`, `library/busybox:1`) becomes its alias when one is configured, else one candidate
//! per unqualified-search registry, tried in order. Whether several candidates may be tried without
//! asking depends on `short-name-mode` and on a terminal; the prompt itself is the caller's.
//!
//! Nothing here contacts a registry or writes a file.

use crate::config::registries::{RegistriesConf, ShortNameMode};
use crate::error::{Error, Result};
use crate::reference::Reference;
use std::path::PathBuf;

/// The references to try for a user's image name, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// Fully qualified, each with the user's tag or digest (`:latest` when neither was given).
    pub candidates: Vec<Reference>,
    /// The single candidate is a configured alias.
    pub from_alias: bool,
    /// Several candidates and a terminal in `enforcing` or `permissive` mode: Podman asks the user to
    /// pick one ("Please select an image"), pulls only that one and records it as an alias.
    pub prompt: bool,
    /// The file that set the alias or the search registries.
    pub origin: Option<PathBuf>,
    /// The short name as the user gave it, without tag or digest; empty for a qualified name.
    short_name: String,
}

impl Resolution {
    /// Podman's line before pulling, or None for a qualified name:
    /// `Resolved "busybox" as an alias (FILE)`, `Resolving "busybox" using unqualified-search registries (FILE)`.
    pub fn description(&self) -> Option<String> {
        if self.short_name.is_empty() {
            return None;
        }
        let origin = self
            .origin
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        Some(if self.from_alias {
            format!("Resolved {:?} as an alias ({origin})", self.short_name)
        } else {
            format!(
                "Resolving {:?} using unqualified-search registries ({origin})",
                self.short_name
            )
        })
    }
}

/// Resolves `name` for a pull. A qualified name is its only candidate. `terminal` says whether stdin
/// and stdout are both terminals, the condition Podman prompts under.
pub fn candidates(conf: &RegistriesConf, name: &Reference, terminal: bool) -> Result<Resolution> {
    let mut resolution = Resolution {
        candidates: vec![],
        from_alias: false,
        prompt: false,
        origin: None,
        short_name: String::new(),
    };
    if !name.is_short() {
        resolution.candidates.push(name.normalized());
        return Ok(resolution);
    }
    resolution.short_name = name.path.clone();
    // An erased alias (`= ""`) in the alias cache hides one in registries.conf, as in Podman.
    let alias = conf
        .cached_aliases
        .get(&name.path)
        .or_else(|| conf.aliases.get(&name.path));
    if let Some((value, origin)) = alias.and_then(|a| a.value.as_ref().map(|v| (v, &a.origin))) {
        let mut candidate = value.clone();
        candidate.tag = name.tag.clone();
        candidate.digest = name.digest.clone();
        resolution.candidates.push(candidate.normalized());
        resolution.from_alias = true;
        resolution.origin = Some(origin.clone());
        return Ok(resolution);
    }

    let search = &conf.unqualified_search_registries;
    if search.is_empty() {
        return Err(Error::InvalidInput(match &conf.search_registries_origin {
            Some(origin) => format!(
                "short-name {:?} did not resolve to an alias and no unqualified-search registries are defined in {:?}",
                name.to_string(),
                origin.display().to_string()
            ),
            None => format!(
                "short-name {:?} did not resolve to an alias and no containers-registries.conf(5) was found",
                name.to_string()
            ),
        }));
    }
    resolution.origin = conf.search_registries_origin.clone();
    for registry in search {
        let candidate = Reference::parse(&format!("{registry}/{name}")).map_err(|e| {
            Error::InvalidInput(format!(
                "creating reference with unqualified-search registry {registry:?}: {e}"
            ))
        })?;
        resolution.candidates.push(candidate.normalized());
    }
    if conf.short_name_mode == ShortNameMode::Disabled || resolution.candidates.len() == 1 {
        return Ok(resolution);
    }
    if terminal {
        resolution.prompt = true;
        return Ok(resolution);
    }
    match conf.short_name_mode {
        ShortNameMode::Enforcing => Err(Error::InvalidInput(
            "short-name resolution enforced but cannot prompt without a TTY".into(),
        )),
        _ => Ok(resolution),
    }
}

/// Podman's error after every candidate failed: the one error as is, or
/// `N errors occurred while pulling:\n * ERR\n * ERR`.
pub fn format_pull_errors(errors: &[String]) -> String {
    match errors {
        [one] => one.clone(),
        _ => format!(
            "{} errors occurred while pulling:\n * {}",
            errors.len(),
            errors.join("\n * ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::registries::load_with;
    use crate::config::registries::tests::{conf_of, test_env, write};

    fn names(r: &Resolution) -> Vec<String> {
        r.candidates.iter().map(|c| c.to_string()).collect()
    }

    fn resolve(text: &str, name: &str, terminal: bool) -> Result<Resolution> {
        candidates(
            &conf_of(text).unwrap(),
            &Reference::parse(name).unwrap(),
            terminal,
        )
    }

    const TWO: &str = "unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n";

    #[test]
    fn an_alias_is_the_only_candidate_and_keeps_the_tag() {
        let text =
            format!("{TWO}[aliases]\n\"bb\" = \"quay.io/lib/busybox\"\n\"alp\" = \"docker.io/alpine\"\n");
        let r = resolve(&text, "bb:1.36", false).unwrap();
        assert_eq!(names(&r), ["quay.io/lib/busybox:1.36"]);
        assert!(r.from_alias && !r.prompt);
        let d = r.description().unwrap();
        assert!(
            d.starts_with("Resolved \"bb\" as an alias (/") && d.ends_with("/registries.conf)"),
            "{d}"
        );
        assert_eq!(
            names(&resolve(&text, "alp", true).unwrap()),
            ["docker.io/library/alpine:latest"]
        );
        let digest = format!("sha256:{}", "b".repeat(64));
        assert_eq!(
            names(&resolve(&text, &format!("bb@{digest}"), false).unwrap()),
            [format!("quay.io/lib/busybox@{digest}")]
        );
    }

    #[test]
    fn search_registries_give_one_candidate_each_in_order() {
        let text = format!("{TWO}short-name-mode = \"disabled\"\n");
        let r = resolve(&text, "busybox:1", false).unwrap();
        assert_eq!(names(&r), ["quay.io/busybox:1", "docker.io/library/busybox:1"]);
        assert!(!r.from_alias && !r.prompt);
        let d = r.description().unwrap();
        assert!(
            d.starts_with("Resolving \"busybox\" using unqualified-search registries (/"),
            "{d}"
        );
        assert_eq!(
            names(&resolve(&text, "library/busybox", true).unwrap()),
            [
                "quay.io/library/busybox:latest",
                "docker.io/library/busybox:latest"
            ]
        );
    }

    #[test]
    fn the_mode_decides_between_prompting_failing_and_trying_all() {
        let enforcing = format!("{TWO}short-name-mode = \"enforcing\"\n");
        let err = resolve(&enforcing, "busybox", false).unwrap_err().to_string();
        assert_eq!(
            err,
            "short-name resolution enforced but cannot prompt without a TTY"
        );
        assert!(resolve(&enforcing, "busybox", true).unwrap().prompt);
        // The default is permissive: every registry without a terminal, a prompt with one.
        assert_eq!(resolve(TWO, "busybox", false).unwrap().candidates.len(), 2);
        assert!(!resolve(TWO, "busybox", false).unwrap().prompt);
        assert!(resolve(TWO, "busybox", true).unwrap().prompt);
        // One registry is never ambiguous.
        let one = "unqualified-search-registries = [\"docker.io\"]\nshort-name-mode = \"enforcing\"\n";
        let r = resolve(one, "busybox", false).unwrap();
        assert_eq!(names(&r), ["docker.io/library/busybox:latest"]);
        assert!(!r.prompt);
    }

    #[test]
    fn without_alias_or_search_registry_the_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("empty.conf");
        write(&file, "");
        let mut env = test_env(dir.path());
        env.registries_conf = Some(file.clone());
        let conf = load_with(&env).unwrap();
        let err = candidates(&conf, &Reference::parse("nosuchxyz").unwrap(), false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "short-name \"nosuchxyz\" did not resolve to an alias and no unqualified-search registries are defined in \"{}\"",
                file.display()
            )
        );
        let none = load_with(&test_env(dir.path())).unwrap();
        let err = candidates(&none, &Reference::parse("x:1").unwrap(), false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "short-name \"x:1\" did not resolve to an alias and no containers-registries.conf(5) was found"
        );
    }

    #[test]
    fn the_alias_cache_wins_and_an_erased_alias_falls_back_to_search() {
        let dir = tempfile::tempdir().unwrap();
        let env = test_env(dir.path());
        write(
            &dir.path().join("etc/containers/registries.conf"),
            "unqualified-search-registries = [\"s.test\"]\n[aliases]\n\"a\" = \"conf.test/a\"\n\"b\" = \"conf.test/b\"\n",
        );
        let cache = dir.path().join("home/.cache/containers/short-name-aliases.conf");
        write(&cache, "[aliases]\n\"a\" = \"cache.test/a\"\n\"b\" = \"\"\n");
        let conf = load_with(&env).unwrap();
        let a = candidates(&conf, &Reference::parse("a").unwrap(), false).unwrap();
        assert_eq!(names(&a), ["cache.test/a:latest"]);
        assert_eq!(a.origin, Some(cache));
        let b = candidates(&conf, &Reference::parse("b").unwrap(), false).unwrap();
        assert_eq!(names(&b), ["s.test/b:latest"]);
        assert!(!b.from_alias);
    }

    #[test]
    fn a_qualified_name_is_its_own_candidate() {
        let r = resolve("", "quay.io/x/y", false).unwrap();
        assert_eq!(names(&r), ["quay.io/x/y:latest"]);
        assert_eq!(r.description(), None);
    }

    #[test]
    fn pull_errors_are_listed_as_podman_lists_them() {
        assert_eq!(format_pull_errors(&["one".into()]), "one");
        assert_eq!(
            format_pull_errors(&["a".into(), "b".into()]),
            "2 errors occurred while pulling:\n * a\n * b"
        );
    }
}
