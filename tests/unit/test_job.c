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

Test(job, reduces_wait_for_every_map)
{
    dmr_job_t *job = s_job(1, 2 * MiB, "1", 2);
    dmr_task_t *t = dmr_job_next_task(job, "w1", 0);
    cr_assert_eq(t->kind, DMR_TASK_MAP);
    s_run(job, t, "w1", DMR_ATT_OK, NULL);
    t = dmr_job_next_task(job, "w1", 0);
    cr_assert_eq(t->kind, DMR_TASK_MAP);
    uint32_t n = dmr_job_start_attempt(job, t, "w1", 0, 0);
    cr_assert_null(dmr_job_next_task(job, "w2", 0),
                   "a reduce was offered while a map runs");
    dmr_job_finish_attempt(job, t, n, DMR_ATT_OK, NULL, "ep", 3, 0);
    t = dmr_job_next_task(job, "w2", 0);
    cr_assert_eq(t->kind, DMR_TASK_REDUCE);
    cr_assert_eq(s_run(job, t, "w2", DMR_ATT_OK, NULL), 0);
    t = dmr_job_next_task(job, "w2", 0);
    cr_assert_eq(s_run(job, t, "w2", DMR_ATT_OK, NULL), 1, "job not done");
    cr_assert_eq(job->state, DMR_JOB_SUCCEEDED);
    cr_assert_eq(job->end_ms, 3000);
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
