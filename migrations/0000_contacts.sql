CREATE TABLE `contacts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`phoneNumber` text,
	`email` text,
	`linkedId` integer,
	`linkPrecedence` text NOT NULL,
	`createdAt` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`updatedAt` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`deletedAt` text,
	FOREIGN KEY (`linkedId`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "contacts_link_shape" CHECK(("contacts"."linkPrecedence" = 'primary' AND "contacts"."linkedId" IS NULL) OR ("contacts"."linkPrecedence" = 'secondary' AND "contacts"."linkedId" IS NOT NULL))
);
--> statement-breakpoint
CREATE INDEX `contacts_email_idx` ON `contacts` (`email`);--> statement-breakpoint
CREATE INDEX `contacts_phone_number_idx` ON `contacts` (`phoneNumber`);--> statement-breakpoint
CREATE INDEX `contacts_linked_id_idx` ON `contacts` (`linkedId`);