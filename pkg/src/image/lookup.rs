//! Finding a local image from what a user typed, as Podman's local lookup does: an exact (normalised)
//! name, a short name matching the end of a stored name (`fedora` finds `localhost:5000/fedora:latest`),
//! `name@digest`, or a unique prefix of the image ID (with or without `sha256:`).

use crate::error::{Error, Result};
use crate::reference::{split_name, Reference};
use image_store::{ImageDb, ImageRecord};

/// The image `input` names; `ImageNotKnown` when none, `AmbiguousName` when a short name fits several.
pub fn find<'a>(db: &'a ImageDb, input: &str) -> Result<&'a ImageRecord> {
    if let Some(hex) = input.strip_prefix("sha256:") {
        return by_id_prefix(db, hex)?.ok_or_else(|| Error::ImageNotKnown(input.to_string()));
    }
    if let Ok(r) = Reference::parse(input) {
        if let Some(img) = by_reference(db, input, &r)? {
            return Ok(img);
        }
    }
    by_id_prefix(db, input)?.ok_or_else(|| Error::ImageNotKnown(input.to_string()))
}

/// The full name under which `input` refers to `img` (for untagging), if it names one of its names.
pub fn matching_name(img: &ImageRecord, input: &str) -> Option<String> {
    let r = Reference::parse(input).ok()?;
    let want_tag = r.tag.clone().unwrap_or_else(|| "latest".into());
    img.names
        .iter()
        .find(|n| {
            let (repo, tag) = split_name(n);
            tag == Some(want_tag.as_str()) && repo_matches(repo, &r)
        })
        .cloned()
}

fn by_reference<'a>(db: &'a ImageDb, input: &str, r: &Reference) -> Result<Option<&'a ImageRecord>> {
    if let Some(d) = &r.digest {
        let repo_ok = |img: &ImageRecord| {
            img.names
                .iter()
                .chain(img.repo_digests.iter())
                .any(|n| repo_matches(split_name(n).0, r))
        };
        return Ok(db
            .images
            .iter()
            .find(|i| (&i.manifest_digest == d || i.digests.contains(d)) && repo_ok(i)));
    }
    if !r.is_short() {
        return Ok(db.by_name(&r.normalized().to_string()));
    }
    for exact in [r.normalized_local().to_string(), r.normalized().to_string()] {
        if let Some(img) = db.by_name(&exact) {
            return Ok(Some(img));
        }
    }
    let tag = r.tag.as_deref().unwrap_or("latest");
    let mut hits: Vec<(&ImageRecord, &String)> = vec![];
    for img in &db.images {
        for n in &img.names {
            let (repo, t) = split_name(n);
            if t == Some(tag) && repo_matches(repo, r) {
                hits.push((img, n));
            }
        }
    }
    let first = match hits.first() {
        None => return Ok(None),
        Some((img, _)) => *img,
    };
    if hits.iter().all(|(img, _)| img.id == first.id) {
        return Ok(Some(first));
    }
    let candidates: Vec<&str> = hits.iter().map(|(_, n)| n.as_str()).collect();
    Err(Error::AmbiguousName {
        name: input.to_string(),
        candidates: candidates.join(", "),
    })
}

/// Does stored repository `repo` (`domain/path`) answer to `r`'s repository?
fn repo_matches(repo: &str, r: &Reference) -> bool {
    if !r.is_short() {
        return repo == r.normalized().repository();
    }
    let path = &r.path;
    repo.strip_suffix(path.as_str())
        .is_some_and(|head| head.ends_with('/'))
}

fn by_id_prefix<'a>(db: &'a ImageDb, prefix: &str) -> Result<Option<&'a ImageRecord>> {
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let mut hits = db.images.iter().filter(|i| i.id.hex().starts_with(prefix));
    let first = hits.next();
    if hits.next().is_some() {
        return Err(Error::InvalidInput(format!(
            "image ID prefix {prefix:?} is ambiguous: give more digits"
        )));
    }
    Ok(first)
}
