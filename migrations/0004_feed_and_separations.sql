CREATE TABLE `contact_separations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`lowContactId` integer NOT NULL,
	`highContactId` integer NOT NULL,
	`createdAt` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`requestId` text NOT NULL,
	CONSTRAINT "contact_separations_ordered" CHECK("contact_separations"."lowContactId" < "contact_separations"."highContactId")
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contact_separations_pair_idx` ON `contact_separations` (`lowContactId`,`highContactId`);--> statement-breakpoint
CREATE INDEX `contact_separations_high_idx` ON `contact_separations` (`highContactId`);--> statement-breakpoint
ALTER TABLE `contact_bridges` ADD `requestId` text;--> statement-breakpoint
ALTER TABLE `contact_events` ADD `bridgeId` integer;