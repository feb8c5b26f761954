package storetest

import (
	"log/slog"
	"testing"

	"github.com/parleyhq/parley/inbox/store"
)

// issue12Scenarios are the scenarios of real-world input: poison input,
// provider IDs per direction, truncated messages, unknown statuses, write
// contention, addresses in every format, and send outcomes that outlive a
// store outage (the outbox).
var issue12Scenarios = []struct {
	name string
	fn   func(t *testing.T, newStore func(t *testing.T) store.Store)
}{
	{"Input_Poison", testInput},
	{"M5_PerDirection", testM5PerDirection},
	{"M1_Truncated", testTruncated},
	{"Contention_OneThread", testContention},
	{"S4_UnknownStatus", testUnknownStatus},
	{"T2_R6_AddressForms", testAddressForms},
	{"T13_PhoneSearchForms", testPhoneSearchForms},
	{"R5_M5_DuplicateKeyword", testDuplicateKeyword},
	{"Outbox_SendingQuery", testOutboxQuery},
	{"Outbox_Recovery", testOutboxRecovery},
}

// quietLogger drops the inbox's diagnostics in scenarios that provoke them.
var quietLogger = slog.New(slog.DiscardHandler)
