//! `inspect` (images now; containers join with the container store) and `image inspect`.

use crate::cli::Context;
use crate::exit::Exit;
use crate::output;
use clap::Args;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie inspect fedora\n  selkie inspect --type image fedora\n  selkie inspect --format \"{{.Id}} {{.Config.Cmd}}\" fedora"
)]
pub struct InspectArgs {
    /// Format the output to a Go template or json
    #[arg(short, long, add = crate::complete::inspect_format())]
    pub format: Option<String>,
    /// Specify inspect-object type (image, container, all)
    #[arg(short, long = "type", default_value = "all", add = crate::complete::inspect_types())]
    pub kind: String,
    /// Display total file size
    #[arg(short, long)]
    pub size: bool,
    /// Objects to inspect
    #[arg(required = true, value_name = "NAME", add = crate::complete::objects())]
    pub names: Vec<String>,
}

impl InspectArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self.kind.as_str() {
            "image" => inspect_images(ctx, &self.names, self.format.as_deref(), false),
            "container" => inspect_containers(ctx, &self.names, self.format.as_deref()),
            "all" => inspect_any(ctx, &self.names, self.format.as_deref()),
            other => Err(Exit::usage(format!(
                "invalid type {other:?}: must be one of container, image, volume, network, pod or all"
            ))
            .into()),
        }
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie image inspect alpine\n  selkie image inspect --format \"imageId: {{.Id}} size: {{.Size}}\" registry.fedoraproject.org/fedora"
)]
pub struct ImageInspectArgs {
    /// Format the output to a Go template or json
    #[arg(short, long, add = crate::complete::inspect_format())]
    pub format: Option<String>,
    /// Images to inspect
    #[arg(required = true, value_name = "IMAGE", add = crate::complete::images())]
    pub images: Vec<String>,
}

impl ImageInspectArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        inspect_images(ctx, &self.images, self.format.as_deref(), false)
    }
}

fn inspect_images(
    ctx: &Context,
    names: &[String],
    format: Option<&str>,
    any_object: bool,
) -> anyhow::Result<()> {
    let engine = ctx.engine()?;
    let db = engine.store.images()?;
    let mut values = vec![];
    let mut missing = None;
    for n in names {
        match pkg::image::lookup::find(&db, n) {
            Ok(img) => values.push(pkg::image::inspect::inspect(&engine, img)?),
            Err(pkg::Error::ImageNotKnown(_)) => {
                missing.get_or_insert(n.clone());
            }
            Err(e) => return Err(e.into()),
        }
    }
    output::inspect(format, &values)?;
    if let Some(n) = missing {
        let msg = if any_object {
            format!("inspecting object: no such object: {n:?}")
        } else {
            format!("inspecting object: {n}: image not known")
        };
        return Err(Exit::usage(msg).into());
    }
    Ok(())
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie container inspect foobar\n  selkie container inspect --format \"{{.State.Pid}}\" myctr"
)]
pub struct ContainerInspectArgs {
    /// Format the output to a Go template or json
    #[arg(short, long, add = crate::complete::inspect_format())]
    pub format: Option<String>,
    /// Display total file size
    #[arg(short, long)]
    pub size: bool,
    /// Containers to inspect
    #[arg(required = true, value_name = "CONTAINER", add = crate::complete::containers(crate::complete::State::Any))]
    pub containers: Vec<String>,
}

impl ContainerInspectArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        inspect_containers(ctx, &self.containers, self.format.as_deref())
    }
}

fn inspect_containers(ctx: &Context, names: &[String], format: Option<&str>) -> anyhow::Result<()> {
    let engine = ctx.engine()?;
    let db = pkg::container::store::read(&engine.store)?;
    let mut values = vec![];
    let mut missing = None;
    for n in names {
        match db.find(n) {
            Ok(rec) => values.push(pkg::container::inspect::inspect(&engine, rec)?),
            Err(pkg::Error::ContainerNotKnown(_)) => {
                missing.get_or_insert(n.clone());
            }
            Err(e) => return Err(e.into()),
        }
    }
    output::inspect(format, &values)?;
    match missing {
        Some(n) => Err(Exit::usage(format!("no such container {n}")).into()),
        None => Ok(()),
    }
}

/// `inspect` without `--type`: each name is a container if one has it, else an image.
fn inspect_any(ctx: &Context, names: &[String], format: Option<&str>) -> anyhow::Result<()> {
    let engine = ctx.engine()?;
    let containers = pkg::container::store::read(&engine.store)?;
    let images = engine.store.images()?;
    let mut values = vec![];
    let mut missing = None;
    for n in names {
        if let Ok(rec) = containers.find(n) {
            values.push(pkg::container::inspect::inspect(&engine, rec)?);
            continue;
        }
        match pkg::image::lookup::find(&images, n) {
            Ok(img) => values.push(pkg::image::inspect::inspect(&engine, img)?),
            Err(pkg::Error::ImageNotKnown(_)) => {
                missing.get_or_insert(n.clone());
            }
            Err(e) => return Err(e.into()),
        }
    }
    output::inspect(format, &values)?;
    match missing {
        Some(n) => Err(Exit::usage(format!("inspecting object: no such object: {n:?}")).into()),
        None => Ok(()),
    }
}
