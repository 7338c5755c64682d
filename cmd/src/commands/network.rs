//! `network`: the network command group (connect, create, disconnect, exists, inspect, ls, prune, rm),
//! Podman 4's flags and outputs. Each verb parses its flags and calls `pkg::network`.

use crate::cli::Context;
use crate::exit::Exit;
use crate::output;
use clap::{Args, Subcommand};
use pkg::format::JsonStyle;
use pkg::network::{store::CreateRequest, Network, NetworkStore, DEFAULT_NETWORK};
use serde_json::{json, Value};
use std::io::{BufRead, Write};

#[derive(Subcommand, Debug)]
pub enum NetworkCommand {
    /// Connect a container to a network
    Connect(ConnectArgs),
    /// Create a network
    Create(CreateArgs),
    /// Disconnect a container from a network
    Disconnect(ConnectArgs),
    /// Network exists
    Exists(ExistsArgs),
    /// Display detailed information on one or more networks
    Inspect(InspectArgs),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Remove unused networks
    Prune(PruneArgs),
    /// Remove networks
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
}

impl NetworkCommand {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            NetworkCommand::Connect(a) => a.run(ctx, true),
            NetworkCommand::Create(a) => a.run(ctx),
            NetworkCommand::Disconnect(a) => a.run(ctx, false),
            NetworkCommand::Exists(a) => a.run(ctx),
            NetworkCommand::Inspect(a) => a.run(ctx),
            NetworkCommand::Ls(a) => a.run(ctx),
            NetworkCommand::Prune(a) => a.run(ctx),
            NetworkCommand::Rm(a) => a.run(ctx),
        }
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie network create\n  selkie network create mynet\n  selkie network create --subnet 192.168.55.0/24 --gateway 192.168.55.3 --internal mynet"
)]
pub struct CreateArgs {
    /// Driver to manage the network
    #[arg(short, long, default_value = "bridge", value_parser = ["bridge"])]
    pub driver: String,
    /// Subnet in CIDR format
    #[arg(long, value_name = "SUBNET")]
    pub subnet: Option<String>,
    /// IPv4 gateway for the subnet
    #[arg(long, value_name = "IP")]
    pub gateway: Option<String>,
    /// Restrict external access from this network
    #[arg(long)]
    pub internal: bool,
    /// Disable the DNS plugin
    #[arg(long)]
    pub disable_dns: bool,
    /// Set metadata on a network
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Name of the bridge interface
    #[arg(long = "interface-name", value_name = "NAME")]
    pub interface_name: Option<String>,
    /// Do not fail if the network already exists
    #[arg(long)]
    pub ignore: bool,
    /// The network's name (podmanN when not given)
    pub name: Option<String>,
}

impl CreateArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if self.gateway.is_some() && self.subnet.is_none() {
            return Err(Exit::usage("cannot set gateway without subnet").into());
        }
        let labels = self
            .labels
            .iter()
            .map(|l| pkg::container::parse::parse_label(l))
            .collect::<pkg::Result<_>>()?;
        let engine = ctx.engine()?;
        let net = NetworkStore::new(&engine).create(&CreateRequest {
            name: self.name,
            driver: Some(self.driver),
            subnet: self.subnet,
            gateway: self.gateway,
            internal: self.internal,
            disable_dns: self.disable_dns,
            labels,
            interface_name: self.interface_name,
            ignore: self.ignore,
        })?;
        println!("{}", net.name);
        Ok(())
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie network connect mynet web\n  selkie network disconnect mynet web"
)]
pub struct ConnectArgs {
    /// The network
    #[arg(value_name = "NETWORK", add = crate::complete::network_names())]
    pub network: String,
    /// The container (running or not)
    #[arg(value_name = "CONTAINER", add = crate::complete::containers(crate::complete::State::Any))]
    pub container: String,
    /// Network scoped alias for the container (connect)
    #[arg(long = "alias", value_name = "NAME")]
    pub alias: Vec<String>,
    /// Static IPv4 address on the network (connect)
    #[arg(long, value_name = "IP")]
    pub ip: Option<String>,
    /// Static MAC address on the network (connect)
    #[arg(long = "mac-address", value_name = "MAC")]
    pub mac_address: Option<String>,
    /// Force the disconnection, even when the teardown fails (disconnect)
    #[arg(short, long)]
    pub force: bool,
}

impl ConnectArgs {
    pub fn run(self, ctx: &Context, join: bool) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        if !join && (!self.alias.is_empty() || self.ip.is_some() || self.mac_address.is_some()) {
            anyhow::bail!("--alias, --ip and --mac-address are options of network connect");
        }
        if join && self.force {
            anyhow::bail!("--force is an option of network disconnect");
        }
        let req = pkg::network::attach::ConnectRequest {
            aliases: self.alias.clone(),
            ip: self.ip.clone(),
            mac: self.mac_address.clone(),
        };
        pkg::network::set_connected(&engine, &self.container, &self.network, join, &req, self.force)?;
        Ok(())
    }
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  selkie network exists mynet")]
pub struct ExistsArgs {
    #[arg(value_name = "NETWORK", add = crate::complete::network_names())]
    pub name: String,
}

impl ExistsArgs {
    /// Exit 0 when the network exists, 1 when it does not.
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        if NetworkStore::new(&engine).exists(&self.name) {
            Ok(())
        } else {
            Err(Exit::silent(1).into())
        }
    }
}

/// The fields a Go template sees (`types.Network`'s Go names).
fn template_row(n: &Network, trunc: bool) -> Value {
    json!({
        "Name": n.name,
        "ID": if trunc { n.id[..12.min(n.id.len())].to_string() } else { n.id.clone() },
        "Driver": n.driver,
        "NetworkInterface": n.network_interface,
        "Created": n.created,
        "Subnets": n.subnets,
        "IPv6Enabled": n.ipv6_enabled,
        "Internal": n.internal,
        "DNSEnabled": n.dns_enabled,
        "Labels": n.labels,
        "Options": n.options,
        "IPAMOptions": n.ipam_options,
    })
}

fn json_row(n: &Network) -> Value {
    serde_json::to_value(n).expect("a network serializes")
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie network inspect podman\n  selkie network inspect --format '{{.Name}} {{.Driver}}' mynet"
)]
pub struct InspectArgs {
    /// Pretty-print network to JSON or using a Go template
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(value_name = "NETWORK", required = true, add = crate::complete::network_names())]
    pub names: Vec<String>,
}

impl InspectArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let store = NetworkStore::new(&engine);
        let mut found = vec![];
        let mut missing = vec![];
        for n in &self.names {
            match store.get(n) {
                Ok(net) => found.push(net),
                Err(e) => missing.push(e.to_string()),
            }
        }
        let json = self.format.as_deref().is_none_or(pkg::format::is_json);
        let values: Vec<Value> = found
            .iter()
            .map(|n| if json { json_row(n) } else { template_row(n, false) })
            .collect();
        output::inspect(self.format.as_deref().filter(|_| !json), &values)?;
        let Some((first, rest)) = missing.split_first() else {
            return Ok(());
        };
        for e in rest {
            eprintln!("error inspecting object: {e}");
        }
        Err(Exit::usage(format!("inspecting object: {first}")).into())
    }
}

const LS_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.Driver}}";
const LS_HEADERS: &[(&str, &str)] = &[("ID", "NETWORK ID")];

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie network ls\n  selkie network ls -q\n  selkie network ls --format '{{.Name}}'"
)]
pub struct LsArgs {
    /// Pretty-print networks to JSON or using a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Do not print headers
    #[arg(long)]
    pub noheading: bool,
    /// Do not truncate the network ID
    #[arg(long)]
    pub no_trunc: bool,
    /// Display only the network ID
    #[arg(short, long)]
    pub quiet: bool,
}

impl LsArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let nets = NetworkStore::new(&engine).list()?;
        if self.quiet {
            for n in &nets {
                println!(
                    "{}",
                    if self.no_trunc {
                        &n.id[..]
                    } else {
                        &n.id[..12.min(n.id.len())]
                    }
                );
            }
            return Ok(());
        }
        output::list_styled(
            self.format.as_deref(),
            LS_TABLE,
            self.noheading,
            LS_HEADERS,
            || nets.iter().map(|n| template_row(n, !self.no_trunc)).collect(),
            || nets.iter().map(json_row).collect(),
            JsonStyle::INDENT2,
        )
    }
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  selkie network rm mynet\n  selkie network rm -f mynet")]
pub struct RmArgs {
    /// Remove any containers using the network too
    #[arg(short, long)]
    pub force: bool,
    /// Seconds to wait for running containers to stop (with -f)
    #[arg(short, long, value_name = "SECONDS")]
    pub time: Option<u32>,
    #[arg(value_name = "NETWORK", required = true, add = crate::complete::network_names())]
    pub names: Vec<String>,
}

impl RmArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let store = NetworkStore::new(&engine);
        let mut failed = None;
        for n in &self.names {
            let result = (|| -> anyhow::Result<()> {
                let net = store.get(n)?;
                if net.name == DEFAULT_NETWORK {
                    anyhow::bail!("default network {} cannot be removed", net.name);
                }
                let users = pkg::network::containers_using(&engine, &net.name)?;
                if !users.is_empty() && !self.force {
                    anyhow::bail!(
                        "network {} is being used by container(s) {}: network is being used",
                        net.name,
                        users
                            .iter()
                            .map(|(_, n)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                for (id, _) in &users {
                    let rec = pkg::container::lifecycle::find(&engine, id)?;
                    if self.time.is_some() {
                        let _ = pkg::container::lifecycle::stop(&engine, &rec, self.time);
                    }
                    pkg::container::lifecycle::remove(&engine, &rec, true, false)?;
                }
                store.remove(&net.name)?;
                println!("{}", net.name);
                Ok(())
            })();
            if let Err(e) = result {
                if let Some(prev) = failed.replace(e) {
                    eprintln!("Error: {prev:#}");
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  selkie network prune\n  selkie network prune -f")]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

impl PruneArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        let engine = ctx.engine()?;
        let store = NetworkStore::new(&engine);
        if !self.force {
            print!("WARNING! This will remove all networks not used by at least one container.\nAre you sure you want to continue? [y/N] ");
            std::io::stdout().flush()?;
            let mut answer = String::new();
            std::io::stdin().lock().read_line(&mut answer)?;
            if !answer.trim_start().starts_with(['y', 'Y']) {
                return Ok(());
            }
        }
        for net in store.list()? {
            if net.name == DEFAULT_NETWORK || !pkg::network::containers_using(&engine, &net.name)?.is_empty()
            {
                continue;
            }
            store.remove(&net.name)?;
            println!("{}", net.name);
        }
        Ok(())
    }
}
