// Reads an iCalendar document on stdin with ical.js (the parser of Thunderbird) and prints each
// event's UTC start and end by UID as JSON: {"uid": ["2008-10-23T08:00:00+00:00", "..."]}.
import { readFileSync } from "node:fs";
import ICAL from "./vendor/ical.js/ical.js";

const root = new ICAL.Component(ICAL.parse(readFileSync(0, "utf8")));
const utc = (time) => new Date(time.toUnixTime() * 1000).toISOString().replace(".000Z", "+00:00");
const found = {};
for (const component of root.getAllSubcomponents("vevent")) {
  const event = new ICAL.Event(component);
  found[event.uid] = [utc(event.startDate), utc(event.endDate)];
}
process.stdout.write(JSON.stringify(found));
