//! The streaming runtime around the engine: tasks per partition number, fed from the Kafka
//! consumer group (see the module docs of each part).

pub mod task;
