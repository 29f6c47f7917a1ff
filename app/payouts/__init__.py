"""The sellers' money: the ledger (sales credited at completion, commission, refunds, cash the
seller collected, payouts), its invariant check, the sellers' Sheba numbers and the staff's
settlement batches (bank transfer files)."""
