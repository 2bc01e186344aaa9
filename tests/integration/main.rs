//! choochoo's integration tests: one binary, one module per concern.

#![allow(
    unreachable_pub,
    reason = "test modules share helpers with `pub`; nothing is exported"
)]

mod async_stations;
mod borrowed;
mod buildgrid;
mod cbuild;
mod checks;
mod checks_cli;
mod checks_map;
mod checks_plan;
mod children;
mod cleans;
mod cleans_shop;
mod cli;
mod cli_items;
mod cli_warnings;
mod committer;
mod defects;
mod defects_cli;
mod defects_upgrade;
mod demo;
mod depfiles;
mod dir_filter;
mod discovered;
mod discovered_process;
mod discovered_scale;
mod effects;
mod fake;
mod faults;
mod fsck;
mod http;
mod incidents;
mod journal;
mod map;
mod map_items;
mod map_order;
mod map_reach;
mod map_spread;
mod memo;
mod named;
mod names_large;
mod noop;
mod plan_props;
mod policy;
mod power;
mod privacy;
mod proxy;
mod record_log;
mod reliability;
mod remote;
mod remote_auth;
mod remote_bytes;
mod remote_bytes_bench;
mod remote_secrets;
mod remote_tls;
mod resources;
mod run_record;
mod secrets;
mod secrets_remote;
mod serve;
mod serve_browser;
mod serve_cli;
mod serve_writes;
mod skips;
mod stat_file;
mod sub_workflows;
mod sub_workflows_shop;
mod support;
mod targets;
mod typed;
mod warnings;
mod watch;
mod webdriver;
