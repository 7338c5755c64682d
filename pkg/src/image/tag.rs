//! `tag` and `untag`: adding and removing names.

use super::lookup;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::reference::Reference;

/// A name as Podman stores one it creates: short names go under `localhost/`.
pub fn new_name(input: &str) -> Result<String> {
    let r = Reference::parse(input)?;
    if r.digest.is_some() {
        return Err(Error::InvalidInput(format!(
            "{input:?}: a tag cannot contain a digest"
        )));
    }
    Ok(if r.is_short() {
        r.normalized_local()
    } else {
        r.normalized()
    }
    .to_string())
}

pub fn tag(engine: &Engine, image: &str, names: &[String]) -> Result<()> {
    let names = names.iter().map(|n| new_name(n)).collect::<Result<Vec<_>>>()?;
    engine.store.update_images(|db| {
        let id = lookup::find(db, image)?.id.clone();
        for n in &names {
            db.add_name(&id, n);
        }
        Ok(())
    })
}

/// Removes the given names from the image, or all of its names when none are given.
pub fn untag(engine: &Engine, image: &str, names: &[String]) -> Result<()> {
    engine.store.update_images(|db| {
        let img = lookup::find(db, image)?;
        let id = img.id.clone();
        let mut doomed = vec![];
        if names.is_empty() {
            doomed.clone_from(&img.names);
        }
        for n in names {
            let full = match lookup::matching_name(img, n) {
                Some(full) => full,
                None => return Err(Error::InvalidInput(format!("{}: tag not known", new_name(n)?))),
            };
            doomed.push(full);
        }
        for n in doomed {
            db.remove_name(&n);
        }
        debug_assert!(db.get(&id).is_some());
        Ok(())
    })
}
