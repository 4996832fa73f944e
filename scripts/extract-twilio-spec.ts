/**
 * Cuts the Twilio operations the project calls out of Twilio's official
 * OpenAPI spec (twilio/twilio-oai, spec/json/twilio_api_v2010.json) and writes
 * them, with every component they reference, to
 * contracts/twilio/api_v2010.subset.json.
 *
 *   npx tsx scripts/extract-twilio-spec.ts [path-to-full-spec]
 *
 * The default input is ../shared/specs/twilio/twilio_api_v2010.json, relative
 * to the working directory. The subset keeps the upstream structure and key
 * order, so a diff against a regenerated subset shows only upstream changes.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { extractSpecSubset, type SpecOperation } from "./lib/spec-subset.js";

/** Every operation the project sends to Twilio, keyed by the spec's exact path. */
const OPERATIONS: readonly SpecOperation[] = [
  { path: "/2010-04-01/Accounts/{AccountSid}/Messages.json", method: "post", operationId: "CreateMessage" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Messages.json", method: "get", operationId: "ListMessage" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json", method: "get", operationId: "FetchMessage" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Calls.json", method: "post", operationId: "CreateCall" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Calls.json", method: "get", operationId: "ListCall" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json", method: "get", operationId: "FetchCall" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json", method: "post", operationId: "UpdateCall" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Conferences.json", method: "get", operationId: "ListConference" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Conferences/{Sid}.json", method: "get", operationId: "FetchConference" },
  { path: "/2010-04-01/Accounts/{AccountSid}/Conferences/{Sid}.json", method: "post", operationId: "UpdateConference" },
  {
    path: "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
    method: "post",
    operationId: "CreateIncomingPhoneNumber",
  },
  {
    path: "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
    method: "get",
    operationId: "ListIncomingPhoneNumber",
  },
  {
    path: "/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Local.json",
    method: "get",
    operationId: "ListAvailablePhoneNumberLocal",
  },
];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

await extractSpecSubset({
  input: path.resolve(process.argv[2] ?? "../shared/specs/twilio/twilio_api_v2010.json"),
  outFile: path.join(repoRoot, ...["contracts", "twilio", "api_v2010.subset.json"]),
  operations: OPERATIONS,
});
