// Tests share libtorch's global CPU generator (dropout, seeding) and measure process-wide resident memory:
// running them in parallel would make both meaningless.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
