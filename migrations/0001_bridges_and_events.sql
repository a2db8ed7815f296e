CREATE TABLE `contact_bridges` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text DEFAULT 'request' NOT NULL,
	`emailContactId` integer NOT NULL,
	`phoneContactId` integer NOT NULL,
	`createdAt` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	FOREIGN KEY (`emailContactId`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`phoneContactId`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `contact_bridges_email_contact_idx` ON `contact_bridges` (`emailContactId`);--> statement-breakpoint
CREATE INDEX `contact_bridges_phone_contact_idx` ON `contact_bridges` (`phoneContactId`);--> statement-breakpoint
CREATE TABLE `contact_event_contacts` (
	`contactId` integer NOT NULL,
	`eventId` integer NOT NULL,
	PRIMARY KEY(`contactId`, `eventId`),
	FOREIGN KEY (`eventId`) REFERENCES `contact_events`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `contact_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`kind` text NOT NULL,
	`primaryContactId` integer NOT NULL,
	`contactIds` text NOT NULL,
	`previousPrimaryContactId` integer,
	`requestId` text NOT NULL
);
