CREATE TABLE `imports` (
	`id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`records` integer NOT NULL,
	`chunksDone` integer NOT NULL,
	`chunksTotal` integer NOT NULL,
	`startedAt` text NOT NULL,
	`finishedAt` text
);
