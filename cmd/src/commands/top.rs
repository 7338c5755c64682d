//! `top`: the processes of a running container, in the columns of Podman's format descriptors.

use crate::cli::Context;
use crate::complete::{self, State};
use crate::exit::Exit;
use clap::Args;
use pkg::container::{exec, lifecycle, top};

#[derive(Args, Debug)]
#[command(
    after_help = "Format descriptors: args, capamb, capbnd, capeff, capinh, capprm, comm, etime, group, groups, hgroup,\nhgroups, hpid, huid, huser, label, nice, pcpu, pgid, pid, ppid, rgroup, rss, ruser, seccomp, state,\nstime, time, tty, uid, user, vsz (or their AIX codes: %C, %p, %U, ...). Other arguments are options of\nps(1), run as `ps ARGS...` inside the container.\n\nExamples:\n  selkie top ctrID\n  selkie top ctrID pid seccomp args %C\n  selkie top ctrID -eo user,pid,comm"
)]
pub struct TopArgs {
    /// The container
    #[arg(value_name = "CONTAINER", add = complete::containers(State::Running))]
    pub container: String,
    /// Format descriptors (separate arguments or one comma-separated list)
    #[arg(
        value_name = "FORMAT-DESCRIPTORS",
        allow_hyphen_values = true,
        trailing_var_arg = true
    )]
    pub descriptors: Vec<String>,
}

impl TopArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let rec = lifecycle::find(&engine, &self.container)?;
        let descriptors = match top::parse_descriptors(&self.descriptors) {
            Ok(d) => d,
            Err(_) => return ps_in_container(&engine, &rec, &self.descriptors),
        };
        let rows = top::top(&engine, &rec, &descriptors)?;
        let text: String = rows.iter().map(|r| format!("{}\n", r.join("\t"))).collect();
        print!("{}", pkg::format::tabwriter::TabWriter::PODMAN.format(&text));
        Ok(())
    }
}

/// What Podman does with arguments that are not descriptors: `ps ARGS...` run in the container.
fn ps_in_container(
    engine: &pkg::Engine,
    rec: &pkg::container::store::ContainerRecord,
    args: &[String],
) -> anyhow::Result<()> {
    if lifecycle::state_of(engine, &rec.id).status != pkg::container::state::Status::Running {
        return Err(pkg::Error::ContainerState("top can only be used on running containers".into()).into());
    }
    let mut command = vec!["ps".to_string()];
    command.extend(args.iter().cloned());
    let opts = exec::ExecOptions {
        command,
        ..Default::default()
    };
    let pid = exec::start(engine, rec, &opts, [0, 1, 2])?;
    match exec::wait(pid)? {
        0 => Ok(()),
        code => Err(Exit::with(
            crate::exit::ENGINE_ERROR,
            format!("ps(1) failed with exit code {code}"),
        )
        .into()),
    }
}
