/* test_job.c -- the master's job table: tasks, attempts, retries, losses,
 * backups, counters, events and the blacklist (master/job.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "master/job.h"

#define MiB (1u << 20)

static dmr_job_t *s_job(size_t nfiles, uint64_t file_bytes, const char *split,
                        uint32_t nreduce)
{
    dmr_msg_t m;
    dmr_msg_t files[8];
    dmr_kv_t params[1] = {{"split_mb", split}};
    char names[8][16];
    cr_assert(nfiles <= 8);
    dmr_msg_init(&m, DMR_MSG_SUBMIT);
    m.name = "wc";
    m.hash = "00";
    m.output = "/out";
    m.nreduce = nreduce;
    m.params = params;
    m.nparams = 1;
    for (size_t i = 0; i < nfiles; i++) {
        snprintf(names[i], sizeof names[i], "f%zu", i);
        dmr_msg_init(&files[i], DMR_MSG_FILE_INFO);
        files[i].path = names[i];
        files[i].name = names[i];
        files[i].total = file_bytes;
    }
    m.items = files;
    m.nitems = nfiles;
    dmr_job_t *job = NULL;
    char err[256];
    int rc = dmr_job_new(7, &m, 1000, &job, err, sizeof err);
    cr_assert_eq(rc, 0, "dmr_job_new: %s", err);
    return job;
}

/* Starts t on wid and finishes that attempt with state. */
static int s_run(dmr_job_t *job, dmr_task_t *t, const char *wid,
                 dmr_att_state_t state, const char *error)
{
    uint32_t n = dmr_job_start_attempt(job, t, wid, 2000, 0);
    return dmr_job_finish_attempt(job, t, n, state, error, "tcp://x:1", 3,
                                  3000);
}

Test(job, splits_and_task_counts)
{
    dmr_job_t *job = s_job(2, 3 * MiB, "1", 2);
    cr_assert_eq(job->nmap, 6);
    cr_assert_eq(job->nreduce, 2);
    cr_assert_eq(job->state, DMR_JOB_RUNNING);
    cr_assert_eq(job->speculative, 1);
    dmr_job_destroy(&job);
    cr_assert_null(job);
}

Test(job, reserved_parameters_are_checked)
{
    const char *bad[][2] = {{"speculative", "2"},
                            {"speculative", "yes"},
                            {"task_timeout_ms", "-1"},
                            {"split_mb", "0"},
                            {"whole_files", "x"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        dmr_msg_t m;
        dmr_kv_t p = {bad[i][0], bad[i][1]};
        dmr_msg_init(&m, DMR_MSG_SUBMIT);
        m.name = "wc";
        m.hash = "00";
        m.output = "/out";
        m.nreduce = 1;
        m.params = &p;
        m.nparams = 1;
        dmr_job_t *job = NULL;
        char err[256] = "";
        cr_assert_eq(dmr_job_new(1, &m, 0, &job, err, sizeof err), DMR_EINVAL,
                     "-D %s=%s accepted", bad[i][0], bad[i][1]);
        cr_assert_null(job);
        cr_assert(strstr(err, bad[i][0]), "error does not name %s: %s",
                  bad[i][0], err);
    }
}

Test(job, reduces_start_once_no_map_waits_for_a_slot)
{
    dmr_job_t *job = s_job(1, 2 * MiB, "1", 2);
    dmr_task_t *m0 = dmr_job_next_task(job, "w1", 0);
    cr_assert_eq(m0->kind, DMR_TASK_MAP);
    uint32_t a0 = dmr_job_start_attempt(job, m0, "w1", 0, 0);
    dmr_task_t *m1 = dmr_job_next_task(job, "w2", 0);
    cr_assert_eq(m1->kind, DMR_TASK_MAP,
                 "a reduce was offered while map 1 waits for a slot");
    uint32_t a1 = dmr_job_start_attempt(job, m1, "w2", 0, 0);
    /* Every map runs, none is done: a reduce may start and fetch. */
    dmr_task_t *r0 = dmr_job_next_task(job, "w3", 0);
    cr_assert_not_null(r0, "no reduce offered while every map runs");
    cr_assert_eq(r0->kind, DMR_TASK_REDUCE);
    uint32_t ra = dmr_job_start_attempt(job, r0, "w3", 0, 0);
    /* Map 0 fails: it waits again, and comes before the other reduce. */
    dmr_job_finish_attempt(job, m0, a0, DMR_ATT_FAILED, "boom", NULL, 3, 0);
    cr_assert(dmr_job_map_waits(job));
    cr_assert_eq(dmr_job_next_task(job, "w3", 0), m0,
                 "a reduce was offered while map 0 waits for a slot");
    a0 = dmr_job_start_attempt(job, m0, "w3", 0, 0);
    cr_assert_not(dmr_job_map_waits(job));
    dmr_task_t *r1 = dmr_job_next_task(job, "w1", 0);
    cr_assert_eq(r1, &job->reduces[1]);
    uint32_t rb = dmr_job_start_attempt(job, r1, "w1", 0, 0);
    cr_assert_null(dmr_job_next_task(job, "w1", 0));
    dmr_job_finish_attempt(job, m0, a0, DMR_ATT_OK, NULL, "ep0", 3, 0);
    dmr_job_finish_attempt(job, m1, a1, DMR_ATT_OK, NULL, "ep1", 3, 0);
    cr_assert_eq(
        dmr_job_finish_attempt(job, r0, ra, DMR_ATT_OK, NULL, NULL, 3, 3000),
        0);
    cr_assert_eq(
        dmr_job_finish_attempt(job, r1, rb, DMR_ATT_OK, NULL, NULL, 3, 3000), 1,
        "job not done");
    cr_assert_eq(job->state, DMR_JOB_SUCCEEDED);
    cr_assert_eq(job->end_ms, 3000);
    dmr_job_destroy(&job);
}

Test(job, no_reduce_takes_a_slot_while_a_map_waits_even_one_it_cannot_use)
{
    dmr_job_t *job = s_job(1, 1 * MiB, "1", 1);
    dmr_task_t *m = &job->maps[0];
    s_run(job, m, "w1", DMR_ATT_FAILED, "boom");
    /* The map goes to the other worker, not w1; w1 gets nothing either. */
    cr_assert_null(dmr_job_next_task(job, "w1", 1),
                   "w1 got a task while map 0 waits for w2");
    /* A reduce slot, which no map may take, gets the reduce meanwhile. */
    cr_assert_eq(dmr_job_next_reduce(job, "w1", 1), &job->reduces[0]);
    cr_assert_eq(dmr_job_next_task(job, "w2", 1), m);
    dmr_job_start_attempt(job, m, "w2", 0, 0);
    cr_assert_eq(dmr_job_next_task(job, "w1", 1), &job->reduces[0]);
    dmr_job_destroy(&job);
}

/* Starts a reduce attempt on wid at wall time start in phase. */
static dmr_attempt_t *s_reduce_at(dmr_job_t *job, uint32_t i, const char *wid,
                                  int64_t start, const char *phase)
{
    dmr_task_t *t = &job->reduces[i];
    dmr_attempt_t *a =
        dmr_task_attempt(t, dmr_job_start_attempt(job, t, wid, start, 0));
    snprintf(a->phase, sizeof a->phase, "%s", phase);
    return a;
}

static int s_not_w2(void *arg, const char *wid)
{
    (void)arg;
    return strcmp(wid, "w2") != 0;
}

Test(job, a_waiting_map_takes_the_slot_of_the_newest_reduce_still_fetching)
{
    dmr_job_t *job = s_job(1, 1 * MiB, "1", 4);
    dmr_task_t *m = &job->maps[0], *t = NULL, *map = NULL;
    uint32_t am = dmr_job_start_attempt(job, m, "w1", 0, 0);
    dmr_attempt_t *r0 = s_reduce_at(job, 0, "w1", 30, "");
    dmr_attempt_t *r1 = s_reduce_at(job, 1, "w2", 20, "fetch");
    s_reduce_at(job, 2, "w2", 40, "merge");
    s_reduce_at(job, 3, "w2", 50, "reduce");
    cr_assert_null(dmr_job_preempt(job, 0, 0, NULL, NULL, &t, &map),
                   "a reduce was stopped while no map waits");
    /* The map fails on w1 and waits; with one other worker it must go
     * there, so the slot comes from w2, where a reduce still fetches
     * (those merging or reducing have all they need). */
    dmr_job_finish_attempt(job, m, am, DMR_ATT_FAILED, "boom", NULL, 3, 0);
    cr_assert_eq(dmr_job_preempt(job, 1, 0, NULL, NULL, &t, &map), r1);
    cr_assert_eq(t, &job->reduces[1]);
    cr_assert_eq(map, m);
    /* Unless stopping it frees no slot there (w2's only reduce, say, in
     * its reduce slot). */
    cr_assert_null(dmr_job_preempt(job, 1, 0, s_not_w2, NULL, &t, &map));
    /* Were w1 fine for the map, the newest fetching attempt would go. */
    cr_assert_eq(dmr_job_preempt(job, 0, 0, NULL, NULL, &t, &map), r0);
    cr_assert_eq(t, &job->reduces[0]);
    /* A worker the job blacklisted gets no map, unless all are. */
    for (int i = 0; i < 3; i++)
        dmr_job_count_failure(job, "w2", 3);
    cr_assert_null(dmr_job_preempt(job, 1, 0, NULL, NULL, &t, &map));
    cr_assert_eq(dmr_job_preempt(job, 1, 1, NULL, NULL, &t, &map), r1);
    /* Stopped, the reduce does not count a failure and waits, idle, until
     * the map has its slot. */
    dmr_job_finish_attempt(job, &job->reduces[1], r1->n, DMR_ATT_KILLED,
                           "its slot went to map 0", NULL, 3, 0);
    cr_assert_eq(job->reduces[1].state, DMR_TASK_IDLE);
    cr_assert_eq(job->reduces[1].failures, 0);
    cr_assert_eq(dmr_job_next_task(job, "w3", 1), m);
    dmr_job_start_attempt(job, m, "w3", 0, 0);
    cr_assert_eq(dmr_job_next_task(job, "w3", 1), &job->reduces[1]);
    cr_assert_null(dmr_job_preempt(job, 1, 1, NULL, NULL, &t, &map));
    dmr_job_destroy(&job);
}

Test(job, a_reduce_that_started_early_is_timed_from_the_last_map)
{
    dmr_job_t *job = s_job(1, 2 * MiB, "1", 3);
    dmr_task_t *m0 = &job->maps[0], *m1 = &job->maps[1];
    dmr_task_t *r0 = &job->reduces[0], *r1 = &job->reduces[1];
    dmr_task_t *r2 = &job->reduces[2];
    uint32_t a0 = dmr_job_start_attempt(job, m0, "w1", 1000, 0);
    uint32_t a1 = dmr_job_start_attempt(job, m1, "w2", 1000, 0);
    dmr_attempt_t *early =
        dmr_task_attempt(r0, dmr_job_start_attempt(job, r0, "w3", 1100, 0));
    dmr_attempt_t *gone =
        dmr_task_attempt(r2, dmr_job_start_attempt(job, r2, "w3", 1200, 0));
    dmr_job_finish_attempt(job, r2, gone->n, DMR_ATT_KILLED, "x", NULL, 3,
                           1300);
    dmr_job_finish_attempt(job, m0, a0, DMR_ATT_OK, NULL, "ep", 3, 2000);
    /* While a map is not done, an attempt is timed from its start. */
    cr_assert_eq(dmr_job_work_began(job, r0, early, 2500), 1100);
    dmr_job_finish_attempt(job, m1, a1, DMR_ATT_OK, NULL, "ep", 3, 5000);
    cr_assert_eq(job->maps_end_ms, 5000);
    dmr_attempt_t *late =
        dmr_task_attempt(r1, dmr_job_start_attempt(job, r1, "w1", 5100, 0));
    cr_assert_eq(dmr_job_work_began(job, r0, early, 6000), 5000);
    cr_assert_eq(dmr_job_work_began(job, r1, late, 6000), 5100);
    /* One that ended before the last map was done keeps its start. */
    cr_assert_eq(dmr_job_work_began(job, r2, gone, gone->end_ms), 1200);
    cr_assert_eq(dmr_job_work_began(job, m1, &m1->att[0], 6000), 1000);
    dmr_job_destroy(&job);
}

Test(job, the_map_log_tells_a_reduce_which_maps_finished_since_it_asked)
{
    dmr_job_t *job = s_job(1, 3 * MiB, "1", 1);
    cr_assert_eq(job->nmap, 3);
    dmr_msg_t it[8];
    uint64_t next = 99;
    cr_assert_eq(dmr_job_done_maps(job, it), 0);
    cr_assert_eq(dmr_job_maps_since(job, 0, 8, it, &next), 0);
    cr_assert_eq(next, 0);
    s_run(job, &job->maps[2], "w1", DMR_ATT_OK, NULL);
    s_run(job, &job->maps[0], "w2", DMR_ATT_OK, NULL);
    /* A reduce starting now gets both, and where the log stands. */
    cr_assert_eq(dmr_job_done_maps(job, it), 2);
    cr_assert_eq(it[0].type, DMR_MSG_MAP_LOC);
    cr_assert_eq(it[0].task, 0);
    cr_assert_str_eq(it[0].wid, "w2");
    cr_assert_eq(it[1].task, 2);
    cr_assert_eq(job->nmap_log, 2);
    /* One that started before learns them in the order they finished. */
    cr_assert_eq(dmr_job_maps_since(job, 0, 8, it, &next), 2);
    cr_assert_eq(it[0].task, 2);
    cr_assert_eq(it[0].attempt, 1);
    cr_assert_str_eq(it[0].endpoint, "tcp://x:1");
    cr_assert_str_eq(it[0].wid, "w1");
    cr_assert_eq(it[1].task, 0);
    cr_assert_eq(next, 2);
    cr_assert_eq(dmr_job_maps_since(job, next, 8, it, &next), 0);
    cr_assert_eq(next, 2);
    /* At most max entries of the log at a time. */
    cr_assert_eq(dmr_job_maps_since(job, 0, 1, it, &next), 1);
    cr_assert_eq(it[0].task, 2);
    cr_assert_eq(next, 1);
    /* A lost output is no location; the map done again is logged again. */
    dmr_job_map_output_lost(job, &job->maps[2], "worker w1 lost");
    cr_assert_eq(dmr_job_maps_since(job, 0, 8, it, &next), 1);
    cr_assert_eq(it[0].task, 0);
    cr_assert_eq(next, 2);
    s_run(job, &job->maps[2], "w3", DMR_ATT_OK, NULL);
    cr_assert_eq(dmr_job_maps_since(job, 2, 8, it, &next), 1);
    cr_assert_eq(it[0].task, 2);
    cr_assert_eq(it[0].attempt, 2);
    cr_assert_str_eq(it[0].wid, "w3");
    cr_assert_eq(next, 3);
    dmr_job_destroy(&job);
}

Test(job, a_failed_task_goes_elsewhere_while_it_can)
{
    dmr_job_t *job = s_job(1, 1 * MiB, "1", 1);
    dmr_task_t *t = dmr_job_next_task(job, "w1", 2);
    s_run(job, t, "w1", DMR_ATT_FAILED, "boom");
    cr_assert_eq(t->state, DMR_TASK_IDLE);
    cr_assert(dmr_task_failed_on(t, "w1"));
    cr_assert_null(dmr_job_next_task(job, "w1", 2),
                   "retried on the worker it failed on");
    cr_assert_eq(dmr_job_next_task(job, "w2", 2), t);
    s_run(job, t, "w2", DMR_ATT_FAILED, "boom");
    /* Failed on w1 and w2; with two other workers, w1 still waits for w3. */
    cr_assert_null(dmr_job_next_task(job, "w1", 2));
    cr_assert_eq(dmr_job_next_task(job, "w1", 1), t,
                 "with no other worker left, w1 must get it");
    dmr_job_destroy(&job);
}

Test(job, max_attempts_fails_the_job_and_lost_attempts_do_not_count)
{
    dmr_job_t *job = s_job(1, 1 * MiB, "1", 1);
    dmr_task_t *t = &job->maps[0];
    for (int i = 0; i < 5; i++)
        cr_assert_eq(s_run(job, t, "w1", DMR_ATT_LOST, "worker lost"), 0);
    cr_assert_eq(t->failures, 0);
    cr_assert_eq(s_run(job, t, "w1", DMR_ATT_FAILED, "signal 11"), 0);
    cr_assert_eq(s_run(job, t, "w2", DMR_ATT_FAILED, "signal 11"), 0);
    cr_assert_eq(s_run(job, t, "w3", DMR_ATT_FAILED, "exit 1; stderr: x"), 1);
    cr_assert_eq(job->state, DMR_JOB_FAILED);
    cr_assert(strstr(job->error, "map task 0 failed 3 times"), "%s",
              job->error);
    cr_assert(strstr(job->error, "exit 1; stderr: x"), "%s", job->error);
    cr_assert_null(dmr_job_next_task(job, "w4", 0));
    dmr_job_destroy(&job);
}

Test(job, the_first_of_two_attempts_wins)
{
    dmr_job_t *job = s_job(1, 1 * MiB, "1", 1);
    dmr_task_t *t = &job->maps[0];
    uint32_t a = dmr_job_start_attempt(job, t, "w1", 0, 0);
    uint32_t b = dmr_job_start_attempt(job, t, "w2", 0, 0);
    cr_assert_eq(dmr_task_running(t), 2);
    dmr_job_finish_attempt(job, t, b, DMR_ATT_OK, NULL, "tcp://w2", 3, 0);
    cr_assert_eq(t->state, DMR_TASK_DONE);
    cr_assert_str_eq(t->out_wid, "w2");
    cr_assert_eq(t->out_att, b);
    cr_assert_eq(job->maps_done, 1);
    /* The loser reports success too: it is recorded as killed, not done
     * twice. */
    dmr_job_finish_attempt(job, t, a, DMR_ATT_OK, NULL, "tcp://w1", 3, 0);
    cr_assert_eq(dmr_task_attempt(t, a)->state, DMR_ATT_KILLED);
    cr_assert_eq(job->maps_done, 1);
    cr_assert_str_eq(t->out_wid, "w2");
    dmr_job_destroy(&job);
}

Test(job, a_lost_map_output_makes_the_map_idle_again)
{
    dmr_job_t *job = s_job(1, 2 * MiB, "1", 1);
    dmr_task_t *t = &job->maps[0];
    s_run(job, t, "w1", DMR_ATT_OK, NULL);
    cr_assert_eq(job->maps_done, 1);
    dmr_job_map_output_lost(job, t, "worker w1 lost");
    cr_assert_eq(t->state, DMR_TASK_IDLE);
    cr_assert_eq(job->maps_done, 0);
    cr_assert_eq(t->out_att, 0);
    cr_assert_eq(t->att[0].state, DMR_ATT_LOST);
    cr_assert_str_eq(t->att[0].error, "worker w1 lost");
    cr_assert_eq(t->failures, 0);
    /* Idempotent, and a no-op on a task that is not done. */
    dmr_job_map_output_lost(job, t, "again");
    cr_assert_eq(job->maps_done, 0);
    cr_assert_eq(dmr_job_next_task(job, "w2", 0), t);
    dmr_job_destroy(&job);
}

Test(job, counters_come_from_winning_attempts_only)
{
    dmr_job_t *job = s_job(1, 2 * MiB, "1", 1);
    dmr_counter_t c = {"map_input_records", 10};
    dmr_msg_t done;
    dmr_msg_init(&done, DMR_MSG_TASK_DONE);
    done.counters = &c;
    done.ncounters = 1;
    for (uint32_t i = 0; i < job->nmap; i++) {
        s_run(job, &job->maps[i], "w1", DMR_ATT_OK, NULL);
        dmr_task_set_counters(&job->maps[i], &done);
    }
    /* Map 0's output is lost and it runs again: counted once. */
    dmr_job_map_output_lost(job, &job->maps[0], "lost");
    dmr_job_sum_counters(job);
    cr_assert_eq(job->counters[0].value, 10 * (job->nmap - 1));
    s_run(job, &job->maps[0], "w2", DMR_ATT_OK, NULL);
    dmr_task_set_counters(&job->maps[0], &done);
    dmr_job_sum_counters(job);
    cr_assert_eq(job->ncounters, 1);
    cr_assert_str_eq(job->counters[0].name, "map_input_records");
    cr_assert_eq(job->counters[0].value, 10 * job->nmap);
    dmr_job_destroy(&job);
}

Test(job, blacklist_after_the_limit)
{
    dmr_job_t *job = s_job(1, 1 * MiB, "1", 1);
    cr_assert_not(dmr_job_blacklisted(job, "w1"));
    cr_assert_eq(dmr_job_count_failure(job, "w1", 3), 0);
    cr_assert_eq(dmr_job_count_failure(job, "w2", 3), 0);
    cr_assert_eq(dmr_job_count_failure(job, "w1", 3), 0);
    cr_assert_eq(dmr_job_count_failure(job, "w1", 3), 1);
    cr_assert(dmr_job_blacklisted(job, "w1"));
    cr_assert_not(dmr_job_blacklisted(job, "w2"));
    cr_assert_eq(dmr_job_count_failure(job, "w1", 3), 0, "reported twice");
    cr_assert_eq(dmr_job_count_failure(job, "w3", 0), 0, "limit 0 is off");
    dmr_job_destroy(&job);
}

Test(job, events_are_numbered_and_listed_from_an_offset)
{
    dmr_job_t *job = s_job(1, 1 * MiB, "1", 1);
    dmr_job_event(job, 1500, "worker %s lost", "w2");
    dmr_job_event(job, 1600, "map %d is slow", 3);
    dmr_job_event(job, 1700, "third");
    dmr_msg_t m;
    dmr_job_info(job, 0, 1, 1, &m);
    cr_assert_eq(m.nitems, 2);
    cr_assert_eq(m.items[0].type, DMR_MSG_EVENT);
    cr_assert_eq(m.items[0].offset, 1);
    cr_assert_str_eq(m.items[0].text, "map 3 is slow");
    cr_assert_eq(m.items[1].start_ms, 1700);
    dmr_job_info_free(&m);
    dmr_job_info(job, 0, 1, 3, &m);
    cr_assert_eq(m.nitems, 0);
    dmr_job_info_free(&m);
    /* Attempts and events together, attempts first. */
    s_run(job, &job->maps[0], "w1", DMR_ATT_FAILED, "x");
    dmr_job_info(job, 1, 1, 0, &m);
    cr_assert_eq(m.nitems, 4);
    cr_assert_eq(m.items[0].type, DMR_MSG_ATTEMPT_INFO);
    cr_assert_str_eq(m.items[0].state, "failed");
    cr_assert_str_eq(m.items[1].text, "worker w2 lost");
    dmr_job_info_free(&m);
    dmr_job_destroy(&job);
}
