//! Stations on Temporal workers (feature `temporal`): the coordinator decides as in any run
//! (the local store, the remote cache, checks) and sends each station that must run to a
//! worker — the same program, started with `worker` — through a Temporal server, as one
//! standalone activity of type `choochoo.station` per station execution.
//!
//! Artifacts never travel through Temporal: the coordinator stores each input's encoding in
//! the remote cache's CAS, the task names their digests, the worker downloads and verifies
//! them, runs the station, stores its output's encoding in the CAS and answers its digest;
//! the coordinator downloads and verifies it and records the result as usual.
//!
//! The activity id is `profile/node/key`: Temporal refuses a second start of an id while one
//! runs, so two coordinators on one graph run each station once, and a coordinator started
//! again re-attaches to the executions in flight. Each station execution is its own small
//! activity, without a workflow history, so a graph's size meets none of Temporal's limits
//! on one execution.

mod activity;
pub(crate) mod client;
pub(crate) mod task;
pub(crate) mod worker;

/// Where the workers are: a Temporal server, a namespace and a task queue.
#[derive(Clone, Debug)]
pub struct Temporal {
    pub(crate) address: String,
    pub(crate) namespace: String,
    pub(crate) task_queue: String,
}

impl Temporal {
    /// The Temporal server at `address` (`host:port`), in namespace `default`, task queue
    /// `choochoo`.
    pub fn new(address: impl Into<String>) -> Temporal {
        Temporal {
            address: address.into(),
            namespace: "default".to_owned(),
            task_queue: "choochoo".to_owned(),
        }
    }

    /// The namespace the tasks go through.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Temporal {
        self.namespace = namespace.into();
        self
    }

    /// The task queue the workers poll.
    pub fn task_queue(mut self, task_queue: impl Into<String>) -> Temporal {
        self.task_queue = task_queue.into();
        self
    }

    /// The server's URL, or why `address` is not one.
    fn url(&self) -> Result<temporalio_client::Url, String> {
        let url = match self.address.contains("://") {
            true => self.address.clone(),
            false => format!("http://{}", self.address),
        };
        url.parse()
            .map_err(|error| format!("`{}` is not a host:port address: {error}", self.address))
    }

    /// A client of the server, connected.
    async fn connect(&self) -> Result<temporalio_client::Client, String> {
        use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions};
        let options = ConnectionOptions::new(self.url()?).build();
        let connection = Connection::connect(options).await.map_err(|error| {
            format!("cannot reach the Temporal server {}: {error}", self.address)
        })?;
        Client::new(connection, ClientOptions::new(&self.namespace).build())
            .map_err(|error| format!("the Temporal server {}: {error}", self.address))
    }
}
